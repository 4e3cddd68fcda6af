import Foundation

extension Wire {
    /// The puller's own changes it already holds: those made by `node` with sequence numbers up
    /// to `upTo`. A pull leaves them out (its cursor still passes them), so a push is not followed
    /// by downloading the same changes again. On the wire: `skipNode=NODE&skipUpTo=SEQ`.
    package struct OwnChanges: Sendable, Equatable {
        /// The query parameter that names the node.
        package static let nodeParameter = "skipNode"
        /// The query parameter that holds the bound.
        package static let upToParameter = "skipUpTo"

        /// The puller's node id: the part of its HLCs after the counter.
        package var node: NodeID
        /// The highest sequence number whose push acknowledgement the puller has recorded.
        package var upTo: Int64

        /// Own changes of `node` up to sequence number `upTo`.
        package init(node: NodeID, upTo: Int64) {
            self.node = node
            self.upTo = upTo
        }

        /// The query text, `skipNode=NODE&skipUpTo=SEQ` (neither value needs escaping).
        package var query: String {
            "\(Self.nodeParameter)=\(node.rawValue)&\(Self.upToParameter)=\(upTo)"
        }
    }
}
