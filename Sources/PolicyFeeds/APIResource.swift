/// A collection of the Kubernetes API that the feed lists and watches.
public struct APIResource: Sendable, Hashable, CustomStringConvertible {
    /// The object kind (`Pod`), which ``PolicyModel`` decodes.
    public var kind: String
    /// The `apiVersion` of its objects (`v1`, `networking.k8s.io/v1`).
    public var apiVersion: String
    /// The collection's path, across all namespaces (`/api/v1/pods`).
    public var path: String
    /// Whether a cluster may lack it (a CRD that is not installed): a 404 is then no error; the feed checks again
    /// now and then.
    public var optional: Bool

    /// A resource.
    public init(kind: String, apiVersion: String, path: String, optional: Bool = false) {
        self.kind = kind
        self.apiVersion = apiVersion
        self.path = path
        self.optional = optional
    }

    /// The path, as logs name the resource.
    public var description: String { path }

    /// `/api/v1/namespaces`.
    public static let namespaces = APIResource(kind: "Namespace", apiVersion: "v1", path: "/api/v1/namespaces")
    /// `/api/v1/pods`, across all namespaces.
    public static let pods = APIResource(kind: "Pod", apiVersion: "v1", path: "/api/v1/pods")
    /// `/api/v1/nodes`.
    public static let nodes = APIResource(kind: "Node", apiVersion: "v1", path: "/api/v1/nodes")
    /// NetworkPolicies across all namespaces.
    public static let networkPolicies = APIResource(
        kind: "NetworkPolicy", apiVersion: "networking.k8s.io/v1", path: "/apis/networking.k8s.io/v1/networkpolicies")
    /// AdminNetworkPolicies (a CRD of kubernetes-sigs/network-policy-api; optional).
    public static let adminNetworkPolicies = APIResource(
        kind: "AdminNetworkPolicy", apiVersion: "policy.networking.k8s.io/v1alpha1",
        path: "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies", optional: true)
    /// The BaselineAdminNetworkPolicy (a CRD of kubernetes-sigs/network-policy-api; optional).
    public static let baselineAdminNetworkPolicies = APIResource(
        kind: "BaselineAdminNetworkPolicy", apiVersion: "policy.networking.k8s.io/v1alpha1",
        path: "/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies", optional: true)

    /// ClusterNetworkPolicies (`policy.networking.k8s.io/v1alpha2`, a CRD; optional).
    public static let clusterNetworkPolicies = APIResource(
        kind: "ClusterNetworkPolicy", apiVersion: "policy.networking.k8s.io/v1alpha2",
        path: "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies", optional: true)

    /// Every resource the engine uses.
    public static let all: [APIResource] = [
        .namespaces, .pods, .nodes, .networkPolicies, .adminNetworkPolicies, .baselineAdminNetworkPolicies,
        .clusterNetworkPolicies,
    ]
}
