import Foundation
import Testing
import TollgateTestSupport

/// `.offCooperativePool`: test bodies run on threads of their own, and Swift Testing still sees their issues.
@Suite(.offCooperativePool)
struct BlockingTestExecutorTests {
    /// The name of the calling thread, as the kernel knows it (`/proc/thread-self/comm`, see proc(5)).
    static func threadName() -> String {
        let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "unreadable"
        return String(name.prefix { $0 != "\n" })
    }

    @Test func aSynchronousBodyRunsOnAThreadOfItsOwn() {
        #expect(Self.threadName() == "tg-test-job")
    }

    @Test(arguments: [1, 2])
    func parameterisedCasesAndTheirChildTasksDoToo(value: Int) async {
        #expect(Self.threadName() == "tg-test-job")
        let structured = await withTaskGroup(of: String.self) { group in
            group.addTask { Self.threadName() }
            return await group.next() ?? "none"
        }
        #expect(structured == "tg-test-job")
    }

    @Test func issuesRecordedThereBelongToTheTest() {
        withKnownIssue("recorded on purpose, to show it is attributed to this test") {
            Issue.record("an issue from a blocking thread")
        }
    }
}
