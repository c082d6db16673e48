import Testing

@Test func placeholderDatapath() {}
