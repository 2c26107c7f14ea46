import ArgumentParser
import Foundation
import PlazoModel

/// `plazo vocabulary`: prints the event vocabulary v1 code lists.
struct VocabularyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocabulary",
        abstract: "Print the event vocabulary's code lists (numbers, labels, meanings)."
    )

    @Argument(help: "Only this attribute (for example offence_category).")
    var attribute: String?

    @Flag(name: .long, help: "Print Markdown tables.")
    var markdown = false

    @Option(name: .long, help: "Language of the meanings: en (default) or es (the Spanish labels plazo seal accepts).")
    var lang: String = "en"

    func validate() throws {
        guard ["en", "es"].contains(lang) else { throw ValidationError("--lang takes en or es") }
    }

    func run() throws {
        let lists = VocabularyCatalogue.lists.filter { attribute == nil || $0.attribute == attribute }
        if lists.isEmpty {
            throw ValidationError("no attribute '\(attribute ?? "")'; attributes: \(VocabularyCatalogue.lists.map(\.attribute).joined(separator: ", "))")
        }
        for list in lists {
            print(markdown ? "### `\(list.attribute)`\n" : "\(list.attribute):")
            if markdown {
                print(VocabularyCatalogue.markdown(list))
            } else {
                for row in list.rows {
                    let text = lang == "es" ? row.spanish : row.meaning
                    print("  \(String(row.code).padding(toLength: 3, withPad: " ", startingAt: 0)) \(row.label.padding(toLength: 26, withPad: " ", startingAt: 0)) \(text)")
                }
            }
        }
    }
}
