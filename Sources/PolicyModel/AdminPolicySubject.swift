/// `spec.subject` of an admin-tier or baseline policy: the pods it applies to. Host-network pods are never
/// subjects.
public enum AdminPolicySubject: Hashable, Sendable, CustomStringConvertible {
    /// Every pod of the namespaces the selector matches.
    case namespaces(LabelSelector)
    /// The pods `pods` selects in the namespaces `namespaces` selects.
    case pods(namespaces: LabelSelector, pods: LabelSelector)

    /// Whether the subject selects a pod with `podLabels` in a namespace with `namespaceLabels`.
    public func selects(podLabels: Labels, namespaceLabels: Labels) -> Bool {
        switch self {
        case .namespaces(let selector): return selector.matches(namespaceLabels)
        case .pods(let namespaces, let pods): return namespaces.matches(namespaceLabels) && pods.matches(podLabels)
        }
    }

    public var description: String {
        switch self {
        case .namespaces(let selector): return "namespaces(\(selector))"
        case .pods(let namespaces, let pods): return "pods(\(pods)) in namespaces(\(namespaces))"
        }
    }
}
