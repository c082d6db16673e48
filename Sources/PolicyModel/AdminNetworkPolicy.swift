/// A cluster-scoped policy of the Kubernetes network-policy-api (kubernetes-sigs/network-policy-api):
/// an `AdminNetworkPolicy` (admin tier, evaluated before NetworkPolicy) or the `BaselineAdminNetworkPolicy`
/// (baseline tier, evaluated after NetworkPolicy for pods that no NetworkPolicy isolates), both
/// `policy.networking.k8s.io/v1alpha1`.
///
/// Within its tier a policy is evaluated in ascending `priority` (a lower number takes precedence), its rules in
/// the order written; the first rule that matches a connection decides it with its action. The API leaves the
/// outcome of two admin policies with the same priority undefined; Tollgate orders them by name and reports the
/// tie (`ClusterState.priorityTies`).
public struct AdminNetworkPolicy: Hashable, Sendable {
    /// The kind of object the policy was loaded from.
    public let kind: AdminPolicyKind
    /// `metadata.name` (the policy is cluster-scoped).
    public let name: String
    /// `spec.priority`, 0 to 1000 for the admin tier; 0 for the baseline policy, which has none.
    public let priority: Int
    /// `spec.subject`: the pods whose traffic the policy governs.
    public let subject: AdminPolicySubject
    /// `spec.ingress`, in order of precedence.
    public let ingress: [AdminPolicyRule]
    /// `spec.egress`, in order of precedence.
    public let egress: [AdminPolicyRule]

    /// A policy as the loader builds it (the baseline policy, which has no priority, gets 0).
    public init(
        kind: AdminPolicyKind = .adminNetworkPolicy, name: String, priority: Int = 0, subject: AdminPolicySubject,
        ingress: [AdminPolicyRule] = [], egress: [AdminPolicyRule] = []
    ) {
        self.kind = kind
        self.name = name
        self.priority = priority
        self.subject = subject
        self.ingress = ingress
        self.egress = egress
    }

    /// The tier the policy belongs to.
    public var tier: PolicyTier { kind.tier }

    /// `AdminNetworkPolicy name` (cluster-scoped: no namespace).
    public var key: ObjectKey { ObjectKey(kind: kind.rawValue, namespace: "", name: name) }

    /// The rules of one direction.
    public func rules(_ ingressDirection: Bool) -> [AdminPolicyRule] { ingressDirection ? ingress : egress }
}

/// The kinds of cluster-scoped policy Tollgate loads.
public enum AdminPolicyKind: String, Hashable, Sendable, CaseIterable {
    case adminNetworkPolicy = "AdminNetworkPolicy"
    case baselineAdminNetworkPolicy = "BaselineAdminNetworkPolicy"

    /// The tier policies of this kind belong to.
    public var tier: PolicyTier {
        switch self {
        case .adminNetworkPolicy: return .admin
        case .baselineAdminNetworkPolicy: return .baseline
        }
    }

    /// `policy.networking.k8s.io/v1alpha1`.
    public static let apiVersion = "policy.networking.k8s.io/v1alpha1"
}

/// The tiers of policy evaluation, in order: admin, NetworkPolicy, baseline; a connection no tier decides is
/// allowed (the Kubernetes default).
public enum PolicyTier: String, Hashable, Sendable, CaseIterable, Comparable {
    case admin = "Admin"
    case networkPolicy = "NetworkPolicy"
    case baseline = "Baseline"

    private var order: Int {
        switch self {
        case .admin: return 0
        case .networkPolicy: return 1
        case .baseline: return 2
        }
    }

    /// Evaluation order: admin before NetworkPolicy before baseline.
    public static func < (lhs: PolicyTier, rhs: PolicyTier) -> Bool { lhs.order < rhs.order }
}
