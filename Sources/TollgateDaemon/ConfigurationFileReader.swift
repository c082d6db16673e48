import Foundation
import LinuxSupport

/// Reads a configuration file whole, refusing directories, files over a size limit and invalid UTF-8, and
/// reporting failed calls with their errno.
enum ConfigurationFileReader {
    /// The file's text.
    ///
    /// - Throws: ``ConfigurationFileError`` with one problem: the failed call (`open`, `read`) and its errno, or
    ///   why the contents were refused.
    static func read(path: String, limit: Int) throws(ConfigurationFileError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationFileError(
                path: path, readFailure: SystemError(call: "open(\(path))", errno: .noSuchFileOrDirectory))
        }
        guard !isDirectory.boolValue else {
            throw ConfigurationFileError(path: path, readFailure: SystemError(call: "read(\(path))", errno: Errno(rawValue: EISDIR)))
        }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }  // read-only descriptor: nothing to flush, close cannot lose data
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw ConfigurationFileError(
                path: path, readFailure: SystemError(call: "open(\(path))", errno: Self.errno(of: error)))
        }
        guard data.count <= limit else {
            throw ConfigurationFileError(
                path: path,
                problems: [.init(line: nil, key: "", message: "larger than \(limit) bytes; is this the right file?")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationFileError(path: path, problems: [.init(line: nil, key: "", message: "not valid UTF-8")])
        }
        return text
    }

    /// The POSIX error number inside a Foundation error (its own code, or its underlying error's), else `EIO`.
    private static func errno(of error: any Error) -> Errno {
        let nsError = error as NSError
        if nsError.domain == NSPOSIXErrorDomain { return Errno(rawValue: Int32(nsError.code)) }
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return Errno(rawValue: Int32(underlying.code))
        }
        switch CocoaError.Code(rawValue: nsError.code) {
        case .fileReadNoPermission: return Errno(rawValue: EACCES)
        case .fileReadNoSuchFile, .fileNoSuchFile: return .noSuchFileOrDirectory
        default: return Errno(rawValue: EIO)
        }
    }
}
