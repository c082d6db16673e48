import Testing

@Test func placeholderVerdictEngine() {}
