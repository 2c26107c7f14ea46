import ArgumentParser
import Foundation
@testable import PlazoCLI
import Synchronization
import ZIPFoundation

/// Runs the real `plazo` binary. This target depends on `PlazoCLI` in Package.swift, so SwiftPM
/// builds the executable before the tests; it lies beside the test bundle, under the name the
/// command declares.
struct PlazoProcess {
    static let name = Plazo.configuration.commandName ?? "plazo"

    static let binary: String = {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [dir.appendingPathComponent(name).path, dir.deletingLastPathComponent().appendingPathComponent(name).path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }()

    /// Runs `body` on a thread of its own and returns its result to the calling task: for waits
    /// and measurements that must not depend on the test process's cooperative pool, which the
    /// suites running in parallel keep busy.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// Runs `plazo args...` to completion; returns exit status and output. From async code, on a
    /// thread of its own: the calling task is suspended while the process runs, and the test
    /// process's cooperative pool (one thread per core) keeps serving the suites beside it, whose
    /// store calls and in-process servers need it.
    @discardableResult
    static func run(_ args: [String], in directory: String) async throws -> (status: Int32, out: String, err: String) {
        try await onThread { Result { try runBlocking(args, in: directory) } }.get()
    }

    /// The same, blocking the calling thread (synchronous code: fixtures' initialisers).
    @discardableResult
    static func run(_ args: [String], in directory: String) throws -> (status: Int32, out: String, err: String) {
        try runBlocking(args, in: directory)
    }

    private static func runBlocking(_ args: [String], in directory: String) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// A running `plazo serve`.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let port: Int

    /// Starts the server and waits for its "listening" line; `stderr` receives its log if given.
    /// `openFileLimit` starts it under that open-file limit (`ulimit -n`, then `exec`: the process
    /// is still the server's).
    init(
        directory: String, port: Int = 0, extra: [String] = [], logLevel: String = "warning", stderr: FileHandle? = nil,
        openFileLimit: Int? = nil
    ) throws {
        let process = Process()
        self.process = process
        let arguments = ["serve", "--port", "\(port)", "--log-level", logLevel] + extra
        if let openFileLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(openFileLimit) && exec \"$0\" \"$@\"", PlazoProcess.binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: PlazoProcess.binary)
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = stderr ?? FileHandle.nullDevice
        try process.run()
        let handle = out.fileHandleForReading
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("\n"), Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #"listening on https?://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
            let bound = Int(text[range].split(separator: ":").last!)
        else {
            process.terminate()
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(text)"])
        }
        self.port = bound
    }

    /// The same start from async code, on a thread of its own: the wait for the "listening" line
    /// (a replay, on a large store, takes seconds) leaves the test process's cooperative pool to the
    /// suites beside this one.
    convenience init(
        directory: String, port: Int = 0, extra: [String] = [], logLevel: String = "warning", stderr: FileHandle? = nil,
        openFileLimit: Int? = nil
    ) async throws {
        let started = await PlazoProcess.onThread {
            Result { try Started(ServerProcess(directory: directory, port: port, extra: extra, logLevel: logLevel, stderr: stderr, openFileLimit: openFileLimit)) }
        }
        let server = try started.get().server
        self.init(process: server.process, port: server.port)
    }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// A started server handed from the thread that waited for it.
    private struct Started: @unchecked Sendable {
        let server: ServerProcess
        init(_ server: ServerProcess) { self.server = server }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// SIGKILL: no chance to flush or clean up.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The same from async code: the calling task waits, no thread does.
    func kill9() async {
        kill(process.processIdentifier, SIGKILL)
        _ = await process.exited(within: 60)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// The same from async code: the calling task waits for the exit (a graceful stop writes the
    /// snapshot), no thread does.
    func stop() async {
        process.terminate()
        _ = await process.exited(within: 120)
    }

    /// Waits for the server to exit, at most `timeout` seconds; whether it did.
    func exited(within timeout: Double) async -> Bool { await process.exited(within: timeout) }
}

extension Process {
    /// Waits for the process to exit, at most `timeout` seconds, on its termination signal (no
    /// polling); whether it exited. Call after `run()`.
    func exited(within timeout: Double) async -> Bool {
        final class Once: Sendable {
            let done = Atomic(false)
        }
        let once = Once()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            @Sendable func finish(_ value: Bool) {
                if !once.done.exchange(true, ordering: .acquiringAndReleasing) { continuation.resume(returning: value) }
            }
            terminationHandler = { _ in finish(true) }
            // The handler is not called for a process that had already exited when it was set.
            if !isRunning { finish(true) }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { finish(false) }
        }
    }

    /// The exit status once the process exits, or nil if it still runs after `timeout` seconds.
    func exitStatus(within timeout: Double) async -> Int32? {
        await exited(within: timeout) ? terminationStatus : nil
    }
}

/// The entries of a ustar archive (a name in the header's `prefix` field is joined with a `/`).
func untar(_ bytes: [UInt8]) -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    var offset = 0
    while offset + 512 <= bytes.count {
        let header = bytes[offset..<(offset + 512)]
        if header.allSatisfy({ $0 == 0 }) { break }
        let name = String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self)
        let prefix = String(decoding: header.dropFirst(345).prefix(155).prefix { $0 != 0 }, as: UTF8.self)
        let sizeText = String(decoding: header.dropFirst(124).prefix(12).prefix { $0 != 0 && $0 != 32 }, as: UTF8.self)
        let size = Int(sizeText, radix: 8) ?? 0
        files[prefix.isEmpty ? name : prefix + "/" + name] = Array(bytes[(offset + 512)..<(offset + 512 + size)])
        offset += 512 + (size + 511) / 512 * 512
    }
    return files
}

/// The entries of a zip, read by ZIPFoundation (each entry's CRC-32 checked), with whether each
/// was deflated.
func unzip(_ zip: [UInt8]) throws -> [String: (bytes: [UInt8], deflated: Bool)] {
    let archive = try Archive(data: Data(zip), accessMode: .read)
    var out: [String: (bytes: [UInt8], deflated: Bool)] = [:]
    for entry in archive {
        var bytes: [UInt8] = []
        _ = try archive.extract(entry) { bytes += $0 }
        out[entry.path] = (bytes, entry.compressedSize < entry.uncompressedSize)
    }
    return out
}
