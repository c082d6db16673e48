/// A cluster-scoped policy of the Kubernetes network-policy-api (kubernetes-sigs/network-policy-api): an
/// `AdminNetworkPolicy` (admin tier, evaluated before NetworkPolicy) or the `BaselineAdminNetworkPolicy`
/// (baseline tier, evaluated after NetworkPolicy for pods that no NetworkPolicy isolates), both
/// `policy.networking.k8s.io/v1alpha1`, or a `ClusterNetworkPolicy` (`policy.networking.k8s.io/v1alpha2`), which
/// names its tier, Admin or Baseline, in `spec.tier`.
///
/// Within its tier a policy is evaluated in ascending `priority` (a lower number takes precedence), its rules in
/// the order written; the first rule that matches a connection decides it with its action. Admin-tier
/// AdminNetworkPolicies and ClusterNetworkPolicies share one priority scale (0 to 1000); so do baseline-tier
/// ClusterNetworkPolicies, and the BaselineAdminNetworkPolicy, which has no priority, comes after all of them
/// (`precedence`). The API leaves the outcome of two policies of a tier with the same priority undefined;
/// Tollgate orders them by name, then kind, and reports the tie (`ClusterState.priorityTies`).
public struct AdminNetworkPolicy: Hashable, Sendable {
    /// The kind of object the policy was loaded from.
    public let kind: AdminPolicyKind
    /// `metadata.name` (the policy is cluster-scoped).
    public let name: String
    /// The tier: admin for an AdminNetworkPolicy, baseline for the BaselineAdminNetworkPolicy, `spec.tier` for a
    /// ClusterNetworkPolicy.
    public let tier: PolicyTier
    /// `spec.priority`, 0 to 1000; 0 for the BaselineAdminNetworkPolicy, which has none.
    public let priority: Int
    /// `spec.subject`: the pods whose traffic the policy governs.
    public let subject: AdminPolicySubject
    /// `spec.ingress`, in order of precedence.
    public let ingress: [AdminPolicyRule]
    /// `spec.egress`, in order of precedence.
    public let egress: [AdminPolicyRule]

    /// A policy as the loader builds it (the baseline policy, which has no priority, gets 0). `tier` defaults to
    /// the kind's (admin for AdminNetworkPolicy and ClusterNetworkPolicy, baseline for the
    /// BaselineAdminNetworkPolicy).
    public init(
        kind: AdminPolicyKind = .adminNetworkPolicy, name: String, tier: PolicyTier? = nil, priority: Int = 0,
        subject: AdminPolicySubject, ingress: [AdminPolicyRule] = [], egress: [AdminPolicyRule] = []
    ) {
        self.kind = kind
        self.name = name
        self.tier = tier ?? kind.defaultTier
        self.priority = priority
        self.subject = subject
        self.ingress = ingress
        self.egress = egress
    }

    /// The position of the policy within its tier, lowest first: its priority, or 1001 (after every
    /// ClusterNetworkPolicy of the baseline tier) for the BaselineAdminNetworkPolicy.
    public var precedence: Int { kind == .baselineAdminNetworkPolicy ? 1001 : priority }

    /// Evaluation order across tiers: tier, precedence, name, kind.
    public static func evaluatedBefore(_ lhs: AdminNetworkPolicy, _ rhs: AdminNetworkPolicy) -> Bool {
        (lhs.tier, lhs.precedence, lhs.name, lhs.kind.rawValue) < (rhs.tier, rhs.precedence, rhs.name, rhs.kind.rawValue)
    }

    /// `AdminNetworkPolicy name` (cluster-scoped: no namespace).
    public var key: ObjectKey { ObjectKey(kind: kind.rawValue, namespace: "", name: name) }

    /// The rules of one direction.
    public func rules(_ ingressDirection: Bool) -> [AdminPolicyRule] { ingressDirection ? ingress : egress }
}

/// The kinds of cluster-scoped policy Tollgate loads.
public enum AdminPolicyKind: String, Hashable, Sendable, CaseIterable {
    case adminNetworkPolicy = "AdminNetworkPolicy"
    case baselineAdminNetworkPolicy = "BaselineAdminNetworkPolicy"
    /// `policy.networking.k8s.io/v1alpha2`, tier Admin or Baseline.
    case clusterNetworkPolicy = "ClusterNetworkPolicy"

    /// The tier of policies of this kind, unless the policy names its own (a ClusterNetworkPolicy does).
    public var defaultTier: PolicyTier {
        switch self {
        case .adminNetworkPolicy, .clusterNetworkPolicy: return .admin
        case .baselineAdminNetworkPolicy: return .baseline
        }
    }

    /// `policy.networking.k8s.io/v1alpha1` for AdminNetworkPolicy and BaselineAdminNetworkPolicy,
    /// `policy.networking.k8s.io/v1alpha2` for ClusterNetworkPolicy.
    public var apiVersion: String {
        switch self {
        case .adminNetworkPolicy, .baselineAdminNetworkPolicy: return "policy.networking.k8s.io/v1alpha1"
        case .clusterNetworkPolicy: return "policy.networking.k8s.io/v1alpha2"
        }
    }
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
