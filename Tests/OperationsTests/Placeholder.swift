import Testing

@Test func placeholderOperations() {}
