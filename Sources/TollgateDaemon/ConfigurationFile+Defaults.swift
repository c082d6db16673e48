import LinuxSupport
import NetworkTypes

extension ConfigurationFile {
    /// The commented default file that `tollgate config --print-defaults` prints and the packages install as
    /// `/etc/tollgate/config.yaml`. It loads back as ``defaultValues``.
    public static let defaultText = """
        # Tollgate configuration: /etc/tollgate/config.yaml
        #
        # `tollgate run` reads this file when it exists (or the file given with --config); command-line flags
        # override the values here. Unknown keys, values of the wrong type and invalid CIDRs are errors naming
        # the line, and the daemon does not start (it touches no kernel rule) until they are fixed.
        # Check a file with: tollgate config --check /etc/tollgate/config.yaml
        # Remove a key to use its default; a key with no value is an error.

        # The directory of Kubernetes manifests (NetworkPolicy, Namespace, Pod; .yaml, .yml or .json).
        # It must exist and be readable. Optional when kubeconfig or inCluster is set. Changes are picked up at once (inotify), and on SIGHUP
        # (systemctl reload tollgate).
        policyDir: /etc/tollgate/policies.d

        # Pod address ranges: the first packet of every new connection to or from these is decided by Tollgate.
        # Set these to your cluster's pod CIDRs (IPv4 and IPv6). At least one is required.
        podCIDRs:
          - 10.244.0.0/16

        # Node and infrastructure addresses whose traffic with pods is never queued (kubelet probes, for example).
        exemptCIDRs: []

        # Worker threads, one NFQUEUE queue each, from 1 to 64. Default: one per CPU core (at most 64).
        # workers: 2

        # Scheduling of the worker threads: 0 for normal, or 1 to 99 to run them under SCHED_RR at that priority,
        # so a queued first packet is decided as soon as it arrives, even when every CPU is busy (the kernel
        # still keeps 5 % of each second for other threads). Needs CAP_SYS_NICE; falls back to normal with a warning.
        workerPriority: 0

        # Keep every allowed flow (source, protocol, destination port, destination) in kernel sets (ip sets with
        # the iptables back end, which needs the ipset tool; sets in table inet tollgate with the nft back end), so
        # that later connections of the same flow skip the queue until the next policy snapshot empties the sets.
        # Fewer packets reach userspace; the verdict metrics then count only the first connection of each flow,
        # and tollgate_kernel_cache_accepts_total counts the connections the sets let through.
        kernelAllowCache: false

        # The first NFQUEUE queue number; the workers use queueNum ... queueNum + workers - 1.
        queueNum: 0

        # What happens to a connection Tollgate cannot judge (malformed packet, no worker listening):
        # open accepts it (availability first), closed drops it (enforcement first).
        failureMode: open

        # HOST:PORT of the HTTP endpoint serving /metrics, /status, /readyz and /healthz
        # (tollgate status reads it). IPv6 in brackets: "[::1]:9470".
        metricsAddr: 127.0.0.1:9470

        # Kernel rules back end: auto (detect), iptables or nftables.
        backend: auto

        # Log level: trace, debug, info, notice, warning, error or critical.
        logLevel: info

        # Log format: text (human-readable lines) or json (one JSON object per line).
        logFormat: text

        # Changes are seen at once through inotify; this also lists the directory every N milliseconds as a
        # safety net (0: off; otherwise 10 to 3600000).
        pollIntervalMs: 5000

        # Audit mode: decide and log as if enforcing, but let every connection through. A namespace can be put
        # in audit mode alone with the annotation tollgate.io/enforcement: audit.
        audit: false

        # Denied-connection log lines per second; the rest are counted and summarised every 10 s.
        denyLogRate: 20

        # Cut established connections that a new policy denies (conntrack), on every new snapshot.
        revoke: true

        # This node's name as in its Node object (default: the host name). The addresses of that Node object
        # count as this node's own; the other Node objects' addresses are peers.
        # nodeName: node-1

        # Addresses of the cluster's nodes (CIDRs), beyond the Node objects' status.addresses: list the overlay
        # bridge or tunnel addresses that nodes masquerade to (weave, cni0, flannel.1, vxlan). This host's own
        # interface addresses are always node addresses. Connections from another node's address are not judged
        # again here: that node, running Tollgate over the same policies, judged them on their original addresses.
        nodeAddresses: []

        # Traffic between pods and node addresses (kubelet probes, the API server, node agents): exempt (never
        # queued) or enforce (judged like any other connection).
        podToNode: exempt

        # Pod and service ranges of other clusters: traffic from local pods to them keeps its pod source address
        # (no masquerade), so the remote cluster's ipBlock rules can name it. Must not overlap podCIDRs.
        remoteClusterCIDRs: []

        # The Kubernetes API feed: a kubeconfig file ("" for none; its current context), or the in-cluster
        # service account (KUBERNETES_SERVICE_HOST/_PORT, the token and CA under
        # /var/run/secrets/kubernetes.io/serviceaccount). Namespaces, pods, nodes, NetworkPolicies and the
        # admin-policy kinds are listed and watched. With a policyDir too, both feed one store; an object both
        # define is taken from policyDir and the conflict is reported. At least one source is required.
        kubeconfig: ""
        inCluster: false

        """

    /// What ``defaultText`` loads as.
    public static var defaultValues: ConfigurationFile {
        var file = ConfigurationFile(path: "<defaults>")
        file.policyDirectory = "/etc/tollgate/policies.d"
        file.podCIDRs = IPPrefix("10.244.0.0/16").map { [$0] }
        file.exemptCIDRs = []
        file.firstQueue = 0
        file.workerPriority = 0
        file.kernelAllowCache = false
        file.failureMode = .open
        file.metricsAddress = try? ListenAddress(parsing: "127.0.0.1:9470")
        file.backend = .auto
        file.logLevel = .info
        file.logFormat = .text
        file.pollIntervalMilliseconds = 5000
        file.audit = false
        file.denyLogRate = 20
        file.revoke = true
        file.nodeAddresses = []
        file.podToNode = .exempt
        file.remoteClusterCIDRs = []
        file.kubeconfig = ""
        file.inCluster = false
        return file
    }
}
