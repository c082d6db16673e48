internal import Glibc

/// Readings about this process from `/proc/self` (see proc(5)), for metrics and memory-flatness tests.
public enum ProcessResources {
    /// Resident set size in bytes: the second field of `/proc/self/statm` (pages) times the page size.
    ///
    /// - Throws: ``SystemError`` if `/proc/self/statm` cannot be read or has an unexpected form.
    public static func residentMemoryBytes() throws(SystemError) -> UInt64 {
        let text = try readSmallFile("/proc/self/statm")
        guard let pages = parseResidentPages(statm: text) else {
            throw SystemError(call: "parse(/proc/self/statm: \"\(text)\")", errno: .invalidArgument)
        }
        return pages &* pageSize
    }

    /// The number of open file descriptors: the entries of `/proc/self/fd` (without the one used to list it).
    ///
    /// - Throws: ``SystemError`` if the directory cannot be opened.
    public static func openFileDescriptorCount() throws(SystemError) -> Int {
        guard let directory = opendir("/proc/self/fd") else {
            throw SystemError(call: "opendir(/proc/self/fd)", errno: .current)
        }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name.first == UInt8(ascii: ".")
            }
            if !isDot { count += 1 }
        }
        return count - 1  // the descriptor of the directory stream itself
    }

    /// The system page size in bytes (the corresponding C call is `sysconf(_SC_PAGESIZE)`).
    public static var pageSize: UInt64 {
        let size = sysconf(Int32(_SC_PAGESIZE))
        return size > 0 ? UInt64(size) : 4096
    }

    /// Parses the resident page count (second field) from the text of `/proc/<pid>/statm`.
    ///
    /// Returns `nil` for anything but at least two decimal fields separated by spaces.
    public static func parseResidentPages(statm text: String) -> UInt64? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 2, UInt64(fields[0]) != nil else { return nil }
        return UInt64(fields[1])
    }

    /// Reads a small text file (up to 4 KiB) with `open`/`read`, without Foundation.
    static func readSmallFile(_ path: String) throws(SystemError) -> String {
        let descriptor = try SystemCall.run("open(\(path))") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { try? SystemCall.close(descriptor) }  // read-only descriptor: nothing to lose on close
        var bytes = [UInt8](repeating: 0, count: 4096)
        let filled = try bytes.withUnsafeMutableBytes { buffer -> Result<Int, SystemError> in
            guard let base = buffer.baseAddress else { return .success(0) }
            var filled = 0
            while filled < buffer.count {
                do throws(SystemError) {
                    let count = try SystemCall.run("read(\(path))") { read(descriptor, base + filled, buffer.count - filled) }
                    if count == 0 { break }
                    filled += count
                } catch {
                    return .failure(error)
                }
            }
            return .success(filled)
        }.get()
        return String(decoding: bytes[0..<filled], as: UTF8.self)
    }
}
