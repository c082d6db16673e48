import Glibc
import Testing

@testable import LinuxSupport

@Suite struct ClockAndResourcesTests {
    @Test func monotonicClockNeverGoesBackwards() {
        var previous = MonotonicClock.nanoseconds()
        for _ in 0..<10_000 {
            let now = MonotonicClock.nanoseconds()
            #expect(now >= previous)
            previous = now
        }
    }

    @Test func stopwatchMeasuresASleep() {
        var stopwatch = Stopwatch()
        usleep(20_000)
        let lap = stopwatch.lap()
        #expect(lap >= 20_000_000)
        #expect(lap < 2_000_000_000)
        #expect(stopwatch.elapsedNanoseconds < lap)
        #expect(Stopwatch(startNanoseconds: UInt64.max).elapsedNanoseconds == 0)
    }

    @Test(arguments: [
        ("5000 1234 300 10 0 900 0\n", UInt64(1234) as UInt64?), ("1 2", 2), ("5000", nil), ("", nil), ("x 12 3", nil), ("1 -2 3", nil),
    ])
    func parsesStatm(text: String, pages: UInt64?) {
        #expect(ProcessResources.parseResidentPages(statm: text) == pages)
    }

    @Test func residentMemoryGrowsWhenPagesAreTouched() throws {
        let before = try ProcessResources.residentMemoryBytes()
        #expect(before > 1_000_000)
        let size = 64 << 20
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        defer { block.deallocate() }
        var offset = 0
        while offset < size {
            block[offset] = 1
            offset += 4096
        }
        let after = try ProcessResources.residentMemoryBytes()
        #expect(after >= before + UInt64(size / 2))
    }

    @Test func openDescriptorCountFollowsOpenAndClose() throws {
        // Other tests open descriptors concurrently, so compare with slack for their noise.
        let before = try ProcessResources.openFileDescriptorCount()
        var opened: [Int32] = []
        for _ in 0..<50 {
            opened.append(open("/dev/null", O_RDONLY | O_CLOEXEC))
        }
        let during = try ProcessResources.openFileDescriptorCount()
        for descriptor in opened { try SystemCall.close(descriptor) }
        #expect(opened.allSatisfy { $0 >= 0 })
        #expect(during >= before + 40)
    }
}
