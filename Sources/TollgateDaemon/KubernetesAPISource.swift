import PolicyFeeds

/// Where the daemon finds the Kubernetes API: a kubeconfig file, or the pod's in-cluster service account.
public enum KubernetesAPISource: Sendable, Hashable, CustomStringConvertible {
    /// `--kubeconfig FILE` (its current context).
    case kubeconfig(String)
    /// `--in-cluster`: `KUBERNETES_SERVICE_HOST`/`_PORT` and the service account's token and CA.
    case inCluster

    /// The connection settings, read now.
    ///
    /// - Throws: ``PolicyFeedError`` naming the file or variable that is wrong.
    public func connection() throws(PolicyFeedError) -> KubernetesConnection {
        switch self {
        case .kubeconfig(let path): return try KubernetesConnection.kubeconfig(at: path)
        case .inCluster: return try KubernetesConnection.inCluster()
        }
    }

    /// `--kubeconfig FILE` or `--in-cluster`.
    public var description: String {
        switch self {
        case .kubeconfig(let path): return "--kubeconfig \(path)"
        case .inCluster: return "--in-cluster"
        }
    }
}
