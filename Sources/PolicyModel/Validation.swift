/// Kubernetes name and label syntax (k8s.io/apimachinery/pkg/util/validation).
enum Validation {
    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }

    private static func isLowerAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 97 && c <= 122)
    }

    /// An RFC 1123 label: at most 63 lower-case alphanumerics or '-', starting and ending alphanumeric.
    static func dnsLabelProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > 63 { return "must be at most 63 characters, got \(bytes.count)" }
        guard bytes.allSatisfy({ isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }),
            isLowerAlphanumeric(bytes.first!), isLowerAlphanumeric(bytes.last!)
        else {
            return "\"\(name)\" must consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character"
        }
        return nil
    }

    /// An RFC 1123 subdomain: dot-separated labels, at most 253 characters.
    static func dnsSubdomainProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > 253 { return "must be at most 253 characters" }
        for part in name.split(separator: ".", omittingEmptySubsequences: false) {
            if dnsLabelProblem(String(part)) != nil {
                return "\"\(name)\" must be a lower case RFC 1123 subdomain (alphanumerics, '-' and '.')"
            }
        }
        return nil
    }

    /// A qualified name: `[prefix/]name`, name at most 63 of alphanumerics, '-', '_', '.', alphanumeric at both ends.
    static func labelKeyProblem(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return "label key \"\(key)\" has more than one '/'" }
        if parts.count == 2, let problem = dnsSubdomainProblem(String(parts[0])) {
            return "label key prefix: \(problem)"
        }
        let name = String(parts.last!)
        if name.isEmpty { return "label key \"\(key)\" has an empty name" }
        if let problem = labelValueProblem(name) { return "label key \"\(key)\": \(problem)" }
        return nil
    }

    /// A label value: empty, or at most 63 of alphanumerics, '-', '_', '.', alphanumeric at both ends.
    static func labelValueProblem(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        if bytes.isEmpty { return nil }
        if bytes.count > 63 { return "\"\(value)\" must be at most 63 characters" }
        let allowed = bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
        guard allowed, isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else {
            return "\"\(value)\" must consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character"
        }
        return nil
    }

    /// An IANA service name (RFC 6335): at most 15 lower-case alphanumerics or '-', at least one letter,
    /// no leading, trailing or double '-'.
    static func portNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 15 else { return "port name \"\(name)\" must be 1 to 15 characters" }
        guard bytes.allSatisfy({ isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else {
            return "port name \"\(name)\" must contain only lower case alphanumerics and '-'"
        }
        guard bytes.contains(where: { $0 >= 97 && $0 <= 122 }) else {
            return "port name \"\(name)\" must contain at least one letter"
        }
        guard bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-"), !name.contains("--") else {
            return "port name \"\(name)\" must not begin or end with '-' or contain '--'"
        }
        return nil
    }

    /// A `DomainName` of a v1alpha2 `domainNames` peer: dot-separated labels of letters, digits, '-' and '_'
    /// (neither '-' nor '_' at a label's ends), at least two labels, an optional trailing dot, and an optional
    /// leading `*.` wildcard (the network-policy-api CRD pattern).
    static func domainNameProblem(_ name: String) -> String? {
        var text = Substring(name)
        if text.hasPrefix("*.") { text = text.dropFirst(2) }
        if text.hasSuffix(".") { text = text.dropLast() }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            labels.count >= 2
            && labels.allSatisfy { label in
                let bytes = Array(label.utf8)
                guard let first = bytes.first, let last = bytes.last else { return false }
                return isAlphanumeric(first) && isAlphanumeric(last)
                    && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
            }
        return valid
            ? nil
            : "\"\(name)\" is not a domain name (labels of letters, digits, '-' and '_', such as example.com; "
                + "a leading \"*.\" matches subdomains)"
    }
}
