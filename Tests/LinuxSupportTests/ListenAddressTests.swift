import Testing

@testable import LinuxSupport

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:9470", ListenAddress.Family.ipv4, "127.0.0.1", UInt16(9470), "127.0.0.1:9470"),
        ("0.0.0.0:0", .ipv4, "0.0.0.0", 0, "0.0.0.0:0"),
        ("localhost:80", .ipv4, "127.0.0.1", 80, "127.0.0.1:80"),
        ("[::1]:9470", .ipv6, "::1", 9470, "[::1]:9470"),
        ("[::]:65535", .ipv6, "::", 65535, "[::]:65535"),
        ("[2001:DB8:0:0::1]:8080", .ipv6, "2001:db8::1", 8080, "[2001:db8::1]:8080"),
    ])
    func parsesValidAddresses(text: String, family: ListenAddress.Family, host: String, port: UInt16, description: String) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address == (try ListenAddress(host: host, port: port)))
        #expect(address.family == family)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == description)
    }

    @Test(arguments: [
        ("9470", "expected HOST:PORT, as in 127.0.0.1:9470 or [::1]:9470"),
        ("::1:9470", "an IPv6 address must be in brackets, as in [::1]:9470"),
        ("[::1]9470", "expected \":PORT\" after \"]\", as in [::1]:9470"),
        ("[::1:9470", "missing \"]\" after the IPv6 address"),
        ("[127.0.0.1]:80", "brackets are only for IPv6 addresses"),
        (":9470", "missing host (use 0.0.0.0 or [::] to listen on every address)"),
        ("127.0.0.1:", "missing port"),
        ("127.0.0.1:65536", "the port must be a number from 0 to 65535"),
        ("127.0.0.1:+80", "the port must be a number from 0 to 65535"),
        ("127.0.0.1:http", "the port must be a number from 0 to 65535"),
        ("example.com:80", "\"example.com\" is not an IPv4 or IPv6 address (or localhost)"),
        ("256.0.0.1:80", "\"256.0.0.1\" is not an IPv4 or IPv6 address (or localhost)"),
    ])
    func rejectsInvalidAddresses(text: String, reason: String) {
        #expect(throws: InvalidValueError(what: "listen address", value: text, reason: reason)) {
            try ListenAddress(parsing: text)
        }
    }
}
