/// A fixed-size array of trivial values in memory that its owner allocates once and frees once.
///
/// The hot path reads compiled tables through these: copying one copies a pointer and a count, with no reference
/// counting, and reads are unchecked in release builds (every index is produced by the compiler, never by a
/// packet). The owner (`CompiledSnapshot`) frees the memory in its deinitializer.
@usableFromInline
struct FixedArray<Element: BitwiseCopyable>: @unchecked Sendable {
    // Sendable: the memory is immutable after compilation and freed only after an RCU grace period.
    @usableFromInline let base: UnsafeMutablePointer<Element>?
    @usableFromInline let count: Int

    /// Copies `elements` into new memory.
    init(_ elements: some Collection<Element>) {
        count = elements.count
        if count == 0 {
            base = nil
            return
        }
        let memory = UnsafeMutablePointer<Element>.allocate(capacity: count)
        _ = UnsafeMutableBufferPointer(start: memory, count: count).initialize(from: elements)
        base = memory
    }

    static var empty: FixedArray<Element> { FixedArray([]) }

    @inlinable @inline(__always)
    subscript(index: Int) -> Element {
        assert(index >= 0 && index < count, "FixedArray index \(index) out of range 0..<\(count)")
        return base.unsafelyUnwrapped[index]
    }

    /// The bytes this array holds.
    var byteCount: Int { count * MemoryLayout<Element>.stride }

    /// Frees the memory. Called once, by the owner.
    func deallocate() { base?.deallocate() }

    var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }
}
