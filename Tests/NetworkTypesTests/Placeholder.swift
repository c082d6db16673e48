import Testing

@Test func placeholderNetworkTypes() {}
