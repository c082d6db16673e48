import Testing

@Test func placeholderKernelRules() {}
