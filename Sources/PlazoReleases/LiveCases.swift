import Foundation
import PlazoCases
import PlazoStore

/// The case state a release reads and pins: a running service's case index behind its lock, or an
/// index replayed from the batch log by a process that is not the service (``ReplayedCases``).
///
/// The release path (``ReleaseEngine/create(spec:requester:live:draftID:)``) holds the store's
/// writer, then takes the index through ``withMutableCaseIndex(_:)`` to project it, and again after
/// its commit to pin: ingest applies a batch to the index only inside the writer, after the batch's
/// commit, so no batch can come between the projection and the pinning. The service's conformance
/// lives in the application layer (`PlazoApp.ServiceCases`), which owns both the index and the
/// store.
public protocol LiveCases: Sendable {
    /// Runs `body` on the index under its lock. The caller holds the store's writer first (the
    /// order ingest uses).
    func withMutableCaseIndex(_ body: (inout CaseIndex) -> Void)

    /// Called first while the release holds the writer: applies what other replicas stored (their
    /// batches, and the pins of their releases) so that the projection holds every batch up to the
    /// watermark the release records. Nothing to do for a single process.
    func catchUp(holding writer: HeldWriter) async throws

    /// Learns the id of the release whose pins were just applied, so that following the store does
    /// not apply them a second time.
    func notePinned(releaseID: Int64)

    /// Projections cached between releases at one cutoff (nil: project every time).
    var projections: ProjectionCache? { get }

    /// The batch watermark the index was built to, when it was replayed by another process: the
    /// release is refused if the log has moved on since (a batch stored meanwhile would be in the
    /// watermark but not in the data). nil for the service's own index, which is always current
    /// under the writer.
    var expectedWatermark: Int64? { get }
}

extension LiveCases {
    public func catchUp(holding writer: HeldWriter) async throws {}
    public func notePinned(releaseID: Int64) {}
    public var projections: ProjectionCache? { nil }
    public var expectedWatermark: Int64? { nil }

    /// A copy of the index as it is now (tests, and the CLI after a release).
    public func snapshot() -> CaseIndex {
        var copy: CaseIndex?
        withMutableCaseIndex { copy = $0 }
        return copy!
    }
}

/// An index replayed from the batch log up to batch `lastBatch` (``BatchLogReplay``, in
/// PlazoIngest) by a process that is not the service, e.g. `plazo release create` on a stopped
/// service. A release over it is refused if the log has moved on since the replay.
public final class ReplayedCases: LiveCases, @unchecked Sendable {
    // @unchecked: `index` is only touched under `lock`.
    private let lock = NSLock()
    private var index: CaseIndex
    /// The last batch the replay applied.
    public let lastBatch: Int64

    /// Wraps a replayed index and the last batch it holds.
    public init(_ index: CaseIndex, lastBatch: Int64) {
        self.index = index
        self.lastBatch = lastBatch
    }

    public func withMutableCaseIndex(_ body: (inout CaseIndex) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(&index)
    }

    public var expectedWatermark: Int64? { lastBatch }
}
