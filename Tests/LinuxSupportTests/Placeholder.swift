import Testing

@Test func placeholderLinuxSupport() {}
