import ArgumentParser

/// The `plazo` command: the agency toolkit, the service and the steward's tools in one binary.
@main
struct Plazo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plazo",
        abstract: "Privacy-preserving justice statistics: de-identified, encrypted case events in; differentially private statistics out.",
        version: "0.1.0",
        subcommands: [
            KeysCommand.self,
            SealCommand.self,
            OpenCommand.self,
            VocabularyCommand.self,
            ServeCommand.self,
            AgenciesCommand.self,
            SubmitCommand.self,
            ReceiptCommand.self,
            QualityCommand.self,
            RebuildCommand.self,
            BackupCommand.self,
            SnapshotCommand.self,
            StoreCommand.self,
            SynthCommand.self,
            DemoCommand.self,
            NoiseCommand.self,
            LedgerCommand.self,
            TokensCommand.self,
            ReleaseCommand.self,
        ]
    )
}
