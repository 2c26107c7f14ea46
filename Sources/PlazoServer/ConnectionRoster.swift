import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// The server's open connections and what each is doing, so that at the connection cap the
/// service sheds an idle connection instead of leaving new clients in the listen queue.
///
/// A connection is *idle* when no request is in progress on it: it was accepted and has sent no
/// request head yet, or it is kept alive after its last response. At the cap (`limit`, kept below
/// the open-file limit), accepting a connection closes the idle one that has waited longest:
/// kept-alive connections first (their clients reconnect), then connections that never sent a
/// whole request head (each of those is also closed at its header deadline,
/// ``RequestDeadlineHandler``). Only when every open connection is in the middle of a request do
/// new ones wait in the listen queue, until one closes or goes idle. So sockets that send nothing,
/// however many, never lock the service out: each new client is accepted at once.
///
/// Every child channel's ``RequestDeadlineHandler`` reports to the roster; the server channel
/// asks it whether to accept (``SheddingConnectionLimit``). Channels live on several event loops:
/// the state is behind a mutex, and a channel is closed (thread-safe in NIO) outside it.
final class ConnectionRoster: Sendable {
    /// What a connection is doing.
    struct Entry {
        let channel: any Channel
        /// Requests whose head arrived and whose response has not ended.
        var inFlight = 0
        /// True once a response has ended on it (a kept-alive connection).
        var keptAlive = false
        /// When it became idle (accept, or the end of its last response), as a tick of the roster.
        var idleSince: UInt64
    }

    struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        /// Connections the server channel accepted and has not seen close: counted when accepted,
        /// before their pipelines report (`entries`), so that the accept decision is not late.
        var accepted = 0
        var tick: UInt64 = 0
        /// The server channel (to ask it to accept again when a connection goes idle at the cap).
        var serverChannel: (any Channel)?
        /// True when the last question "accept?" was answered no.
        var refusing = false
    }

    /// Most connections open at once.
    let limit: Int
    /// How far the count may pass `limit` when no connection is idle: the accept decision is taken
    /// when the server asks to read, and a connection idle then may be busy when the next one
    /// arrives; the next one is still served. Past `limit + overshoot`, a new connection that finds
    /// nothing idle is closed at once, so that the open-file limit is never reached.
    static let overshoot = 16
    let logger: Logger
    /// Called once for each connection shed.
    let onShed: @Sendable () -> Void
    private let state = Mutex(State())

    init(limit: Int, logger: Logger, onShed: @escaping @Sendable () -> Void = {}) {
        self.limit = limit
        self.logger = logger
        self.onShed = onShed
    }

    /// Open connections.
    var count: Int { state.withLock { $0.entries.count } }

    /// The listening channel, once the server runs.
    func serverRunning(_ channel: any Channel) {
        state.withLock { $0.serverChannel = channel }
    }

    /// The server channel accepted a connection (``SheddingConnectionLimit``).
    func accepted() { state.withLock { $0.accepted += 1 } }

    /// A connection the server channel accepted has closed.
    func acceptedClosed() { state.withLock { $0.accepted -= 1 } }

    /// A connection was accepted and its pipeline set up. At the cap, the longest-idle other
    /// connection is closed; with none idle and the cap passed by ``overshoot``, this one.
    func opened(_ channel: any Channel) {
        let victim: (any Channel)? = state.withLock { state in
            state.tick += 1
            let id = ObjectIdentifier(channel)
            state.entries[id] = Entry(channel: channel, idleSince: state.tick)
            guard state.entries.count > limit else { return nil }
            if let idle = Self.longestIdle(state.entries, except: id) { return state.entries.removeValue(forKey: idle)?.channel }
            guard state.entries.count > limit + Self.overshoot else { return nil }
            return state.entries.removeValue(forKey: id)?.channel
        }
        if let victim {
            logger.debug("connection cap reached: the longest-idle connection is closed", metadata: ["connections.limit": "\(limit)"])
            onShed()
            victim.close(promise: nil)
        }
    }

    /// A request head arrived on `channel`.
    func requestStarted(_ channel: any Channel) {
        state.withLock { state in state.entries[ObjectIdentifier(channel)]?.inFlight += 1 }
    }

    /// A response ended on `channel`: with no other request in progress, it is idle (kept alive).
    func responseEnded(_ channel: any Channel) {
        let wake: (any Channel)? = state.withLock { state in
            let id = ObjectIdentifier(channel)
            guard var entry = state.entries[id] else { return nil }
            entry.inFlight = max(0, entry.inFlight - 1)
            guard entry.inFlight == 0 else {
                state.entries[id] = entry
                return nil
            }
            state.tick += 1
            entry.keptAlive = true
            entry.idleSince = state.tick
            state.entries[id] = entry
            // New connections were left in the listen queue because none was idle: there is one now.
            guard state.refusing else { return nil }
            state.refusing = false
            return state.serverChannel
        }
        wake?.read()
    }

    /// `channel` closed (or was closed by the roster).
    func closed(_ channel: any Channel) {
        state.withLock { state in _ = state.entries.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Whether the server should accept a connection now: below the cap, or at it with an idle
    /// connection to shed.
    func isAccepting() -> Bool {
        state.withLock { state in
            let accepting = max(state.accepted, state.entries.count) < limit || Self.longestIdle(state.entries, except: nil) != nil
            state.refusing = !accepting
            return accepting
        }
    }

    /// The idle connection to shed first: the longest-idle kept-alive one, else the longest-idle
    /// one that has not sent a request head yet.
    static func longestIdle(_ entries: [ObjectIdentifier: Entry], except: ObjectIdentifier?) -> ObjectIdentifier? {
        var best: (id: ObjectIdentifier, keptAlive: Bool, since: UInt64)?
        for (id, entry) in entries where entry.inFlight == 0 && id != except {
            if let b = best {
                // Kept-alive before never-used; then the longest idle.
                if b.keptAlive && !entry.keptAlive { continue }
                if b.keptAlive == entry.keptAlive && b.since <= entry.idleSince { continue }
            }
            best = (id, entry.keptAlive, entry.idleSince)
        }
        return best?.id
    }
}

/// The server's accept decision (Hummingbird's ``AvailableConnectionsDelegate``, asked on the server
/// channel each time it would read): accept below the cap, and at it while some connection is idle
/// (``ConnectionRoster``).
struct SheddingConnectionLimit: AvailableConnectionsDelegate {
    let roster: ConnectionRoster

    mutating func connectionOpened() { roster.accepted() }
    mutating func connectionClosed() { roster.acceptedClosed() }
    func isAcceptingNewConnections() -> Bool { roster.isAccepting() }
}
