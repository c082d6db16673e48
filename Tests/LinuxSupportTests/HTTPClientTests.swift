import Glibc
import Testing

@testable import LinuxSupport

/// `HTTPClient` against this module's own `HTTPServer` over loopback, and its response parser on raw bytes.
@Suite struct HTTPClientTests {
    static func client(_ address: ListenAddress, timeout: Duration = .seconds(5)) -> HTTPClient {
        HTTPClient(address: address, timeout: timeout, userAgent: "tollgate-test")
    }

    @Test func getReturnsTheWholeResponseAndSendsPathHostAndUserAgent() throws {
        let server = try HTTPServer(address: try ListenAddress(parsing: "127.0.0.1:0")) { request in
            .ok(
                "\(request.method) \(request.path) host=\(request.headers["host"] ?? "-") "
                    + "agent=\(request.headers["user-agent"] ?? "-")\n",
                contentType: "text/x-test")
        }
        defer { server.stop() }
        let response = try Self.client(server.address).get("/status")
        let body = "GET /status host=127.0.0.1:\(server.address.port) agent=tollgate-test\n"
        #expect(
            response
                == HTTPResponse(
                    status: 200, contentType: "text/x-test", body: Array(body.utf8),
                    headers: ["content-length": "\(body.utf8.count)", "connection": "close"]))
    }

    @Test func otherStatusesAreAnswersNotErrors() throws {
        let server = try HTTPServer(address: try ListenAddress(parsing: "[::1]:0")) { _ in .notFound }
        defer { server.stop() }
        let response = try Self.client(server.address).get("/missing")
        #expect(response.status == 404 && response.body == Array("not found\n".utf8))
    }

    @Test func nothingListeningIsConnectRefusedNamingTheAddress() throws {
        // A port that was free a moment ago.
        let server = try HTTPServer(address: try ListenAddress(parsing: "127.0.0.1:0")) { _ in .notFound }
        let address = server.address
        server.stop()
        #expect(throws: HTTPClientError.system(SystemError(call: "connect(\(address))", errno: .connectionRefused))) {
            try Self.client(address).get("/status")
        }
    }

    @Test func aSilentServerTimesOut() throws {
        let server = try HTTPServer(address: try ListenAddress(parsing: "127.0.0.1:0")) { _ in
            usleep(600_000)
            return .ok("late\n")
        }
        defer { server.stop() }
        let started = ContinuousClock.now
        #expect(throws: HTTPClientError.system(SystemError(call: "recv(\(server.address))", errno: .wouldBlock))) {
            try Self.client(server.address, timeout: .milliseconds(100)).get("/status")
        }
        #expect(ContinuousClock.now - started < .milliseconds(550))
    }

    @Test(arguments: ["status", "/a b", "/a\r\nX: y"])
    func pathsThatCannotBeSentAreRefusedBeforeConnecting(path: String) throws {
        // Port 9 on loopback: nothing is contacted, so nothing needs to listen.
        let address = try ListenAddress(parsing: "127.0.0.1:9")
        #expect(throws: HTTPClientError.invalidPath(path)) { try Self.client(address).get(path) }
    }

    // MARK: - Parsing responses

    static func parse(_ text: String, limit: Int = 1 << 20) throws(HTTPClientError) -> HTTPResponse {
        try HTTPClient.parseResponse(Array(text.utf8), path: "/p", limit: limit)
    }

    @Test func contentLengthCutsTheBodyAndFieldValuesLoseSurroundingSpace() throws {
        let response = try Self.parse("HTTP/1.0 200 OK\nContent-Type:  text/plain \t\nX-A: 1\nContent-Length: 3\n\nabcdef")
        #expect(
            response
                == HTTPResponse(
                    status: 200, contentType: "text/plain", body: Array("abc".utf8),
                    headers: ["x-a": "1", "content-length": "3"]))
    }

    @Test func withoutContentLengthTheBodyRunsToTheEndOfTheStream() throws {
        let response = try Self.parse("HTTP/1.1 503 Service Unavailable\r\n\r\nbusy\r\n")
        #expect(response == HTTPResponse(status: 503, contentType: "", body: Array("busy\r\n".utf8), headers: [:]))
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "the body ended after 5 of 10 bytes"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length \"-1\""),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "bad Content-Length \"1x\""),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         "Transfer-Encoding chunked is not supported (expected Content-Length or end of stream)"),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "bad header field \"no colon here\""),
        ("SSH-2.0-OpenSSH_9.6\r\n\r\n", "bad status line \"SSH-2.0-OpenSSH_9.6\""),
        ("HTTP/2 200\r\n\r\n", "bad status line \"HTTP/2 200\""),
        ("HTTP/1.1 20 OK\r\n\r\n", "bad status line \"HTTP/1.1 20 OK\""),
        ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", "no end of header in 36 bytes"),
        ("", "no end of header in 0 bytes"),
    ])
    func malformedResponsesSayWhatIsWrong(text: String, reason: String) {
        #expect(throws: HTTPClientError.malformedResponse(path: "/p", reason: reason)) { try Self.parse(text) }
    }

    @Test func aResponseOverTheLimitIsRefused() {
        #expect(throws: HTTPClientError.malformedResponse(path: "/p", reason: "the response exceeds 16 bytes")) {
            try Self.parse("HTTP/1.1 200 OK\r\n\r\n0123456789", limit: 16)
        }
    }

    @Test func everyTruncationOfAValidResponseParsesOrThrowsWithoutTrapping() {
        let whole = Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n".utf8)
        var parsed = 0
        for length in 0...whole.count {
            if (try? HTTPClient.parseResponse(Array(whole[0..<length]), path: "/p", limit: 1 << 20)) != nil {
                parsed += 1
            }
        }
        #expect(parsed == 1)  // only the whole response has all 12 body bytes
    }
}
