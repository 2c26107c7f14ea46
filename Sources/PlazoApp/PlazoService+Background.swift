import Foundation
import Logging
import PlazoIngest
import PlazoStore
import ServiceLifecycle

/// What a service does beside answering requests, as `ServiceLifecycle` services to run in the
/// server's `ServiceGroup` (`plazo serve`).
extension PlazoService {
    /// When to write the case-index snapshot while serving, and how closely to follow a shared
    /// store. The defaults are `plazo serve`'s.
    public struct BackgroundPolicy: Sendable {
        /// When to write the snapshot while serving; nil writes it only at a clean stop.
        public var snapshots: SnapshotPolicy?
        /// How often a replica of a shared store looks for what the others stored (the staleness
        /// bound of its dashboards and quality reports).
        public var followInterval: Duration

        /// The policy; see the properties.
        public init(snapshots: SnapshotPolicy? = SnapshotPolicy(), followInterval: Duration = .milliseconds(200)) {
            self.snapshots = snapshots
            self.followInterval = followInterval
        }
    }

    /// The services to run beside the HTTP server, in start order: the snapshot schedule (when
    /// this service keeps a snapshot), then the store follower (on a shared store). A
    /// `ServiceGroup` stops them in reverse order after the server, so the follower stops first
    /// and the snapshot's last write is of a state no request changes any more.
    public func backgroundServices(_ policy: BackgroundPolicy, logger: Logger) -> [any Service] {
        var services: [any Service] = []
        if ingest.snapshotPath != nil {
            services.append(SnapshotService(schedule: SnapshotSchedule(service: ingest, policy: policy.snapshots)))
        }
        if database.isShared {
            services.append(FollowerService(follower: StoreFollower(service: ingest, interval: policy.followInterval, logger: logger)))
        }
        return services
    }
}

/// The store follower (replicas of a shared store) as a service: follows until the graceful
/// shutdown reaches it, after the HTTP server has stopped.
struct FollowerService: Service, CustomStringConvertible {
    let follower: StoreFollower
    var description: String { "store follower" }

    func run() async throws {
        await cancelWhenGracefulShutdown { await follower.run() }
    }
}

/// The case-index snapshot schedule as a service: background writes while serving, and at a
/// graceful shutdown (which reaches it last, once the HTTP server and the follower have stopped)
/// the write of the final state. A group cancelled on an error writes nothing more, as a crash
/// would not: the next start replays what the last snapshot lacks.
struct SnapshotService: Service, CustomStringConvertible {
    let schedule: SnapshotSchedule
    var description: String { "case-index snapshot" }

    func run() async throws {
        await cancelWhenGracefulShutdown { await schedule.run() }
        guard !Task.isCancelled else { return }
        await schedule.writeAtStop()
    }
}
