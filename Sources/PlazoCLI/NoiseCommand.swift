import ArgumentParser

/// `plazo noise ...`: tools for auditing the noise samplers.
struct NoiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "noise", abstract: "Audit the exact noise samplers.")
}
