import Testing

@Test func placeholderPolicyModel() {}
