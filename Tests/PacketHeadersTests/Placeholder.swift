import Testing

@Test func placeholderPacketHeaders() {}
