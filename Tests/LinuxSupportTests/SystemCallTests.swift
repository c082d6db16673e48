import Glibc
import Testing

@testable import LinuxSupport

@Suite struct SystemCallTests {
    @Test func failingCallThrowsErrorNamingCallAndErrno() {
        #expect(throws: SystemError(call: "close(-1)", errno: .badFileDescriptor)) {
            try SystemCall.close(-1, what: "close(-1)")
        }
    }

    @Test func errorDescriptionNamesCallErrnoAndMessage() {
        let error = SystemError(call: "bind(127.0.0.1:9470)", errno: .addressInUse)
        #expect(error.description == "bind(127.0.0.1:9470) failed: Address already in use (EADDRINUSE, errno 98)")
    }

    @Test func interruptedCallIsRetried() throws {
        var attempts = 0
        let result = try SystemCall.run("fake") { () -> Int32 in
            attempts += 1
            if attempts < 3 {
                errno = EINTR
                return -1
            }
            return 7
        }
        #expect(result == 7)
        #expect(attempts == 3)
    }

    @Test func interruptedCallIsNotRetriedWhenAskedNotTo() {
        var attempts = 0
        #expect(throws: SystemError(call: "close", errno: .interrupted)) {
            try SystemCall.run("close", retryOnInterrupt: false) { () -> Int32 in
                attempts += 1
                errno = EINTR
                return -1
            }
        }
        #expect(attempts == 1)
    }

    @Test func errnoIsReadBeforeAnythingElseRuns() {
        // A later successful call must not mask the failing call's errno.
        #expect(throws: SystemError(call: "open(/nonexistent/tollgate)", errno: .noSuchFileOrDirectory)) {
            try SystemCall.run("open(/nonexistent/tollgate)") { open("/nonexistent/tollgate", O_RDONLY) }
        }
    }

    @Test(arguments: [
        (Errno.wouldBlock, "EAGAIN"), (Errno.addressInUse, "EADDRINUSE"), (Errno(rawValue: 9999), "errno 9999"),
    ])
    func errnoNames(errno: Errno, name: String) {
        #expect(errno.name == name)
    }
}
