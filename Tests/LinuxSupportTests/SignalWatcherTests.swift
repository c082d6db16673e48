import Glibc
import Synchronization
import Testing

@testable import LinuxSupport

@Suite(.serialized) struct SignalWatcherTests {
    /// Waits up to two seconds for `condition`.
    func eventually(_ condition: () -> Bool) -> Bool {
        for _ in 0..<400 {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }

    @Test func deliversEachSignalToTheHandlerThread() throws {
        let received = Mutex<[WatchedSignal]>([])
        let watcher = try SignalWatcher(pollInterval: .milliseconds(50)) { signal in
            received.withLock { $0.append(signal) }
        }
        defer { watcher.stop() }
        // Direct each signal at the watcher thread only (it blocks them itself), so that no other
        // thread of the test process can take the default action and end the run.
        let thread = try #require(watcher.threadHandle)
        usleep(20_000)  // let the thread block the signals before the first one arrives
        for (index, signal) in [WatchedSignal.hangup, .terminate, .interrupt].enumerated() {
            #expect(pthread_kill(thread, signal.number) == 0)
            #expect(eventually { received.withLock { $0.count } == index + 1 })
        }
        #expect(received.withLock { $0 } == [.hangup, .terminate, .interrupt])
    }

    @Test func stopReturnsPromptly() throws {
        let watcher = try SignalWatcher(pollInterval: .milliseconds(50)) { _ in }
        let stopwatch = Stopwatch()
        watcher.stop()
        #expect(stopwatch.elapsedNanoseconds < 500_000_000)
        watcher.stop()  // a second stop is harmless
    }

    @Test func blockInProcessBlocksTheSignalsInTheCallingThread() throws {
        // Run on a scratch thread so that the test runner's own threads keep their masks.
        let blocked = Mutex<[Int32]>([])
        let thread = try DedicatedThread(name: "mask-check") {
            // Start from a known mask: the creating thread may already block some of them.
            var all = sigset_t()
            sigemptyset(&all)
            for signal in [SIGHUP, SIGTERM, SIGINT] { sigaddset(&all, signal) }
            _ = pthread_sigmask(SIG_UNBLOCK, &all, nil)
            do {
                try SignalWatcher.blockInProcess([.hangup, .terminate])
            } catch {
                return
            }
            var current = sigset_t()
            _ = pthread_sigmask(SIG_BLOCK, nil, &current)
            blocked.withLock { list in
                list = [SIGHUP, SIGTERM, SIGINT].filter { sigismember(&current, $0) == 1 }
            }
        }
        thread.join()
        #expect(blocked.withLock { $0 } == [SIGHUP, SIGTERM])
    }

    @Test(arguments: WatchedSignal.allCases)
    func signalNumbersRoundTrip(signal: WatchedSignal) {
        #expect(WatchedSignal(number: signal.number) == signal)
    }
}
