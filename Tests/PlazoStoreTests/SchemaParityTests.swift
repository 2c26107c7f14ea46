import Foundation
import GRDB
@testable import PlazoStore
import Testing

/// The store's schema is written twice: as SQLite migrations (each feature's, in
/// ``AppDatabase/migrationOrder``) and as ``PostgresSchema``'s steps. These tests hold the two to
/// the same tables, columns (type class, nullability, default), primary keys, unique keys and
/// indexes (partial ones with their condition), foreign keys, checks, and append-only triggers.
///
/// The SQLite side is read from a migrated store (`sqlite_master` holds each table's final
/// `CREATE TABLE`, added columns included); the PostgreSQL side from the steps' text, read by the
/// same parser. With `PLAZO_TEST_POSTGRES` set, the parsed PostgreSQL tables and columns are also
/// checked against a migrated PostgreSQL store's catalogue, so the text read is the schema applied.
@Suite("SQLite and PostgreSQL schemas agree")
struct SchemaParityTests {
    static func sqliteSchema() throws -> SchemaModel {
        let statements = try AppDatabase.inMemory().sqlite!.read { db in
            try String.fetchAll(db, sql: """
                SELECT sql FROM sqlite_master
                WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'
                ORDER BY type <> 'table', name
                """)
        }
        return try SchemaModel(statements: statements)
    }

    static func postgresSchema() throws -> SchemaModel {
        // Split as PostgresSchema.migrate splits a step: statements end with `;` at a line's end.
        let statements = PostgresSchema.steps.flatMap { $0.sql.components(separatedBy: ";\n") }
        return try SchemaModel(statements: statements)
    }

    @Test("the same tables, each with the same columns, keys, indexes, checks and append-only rules")
    func schemasAgree() throws {
        let sqlite = try Self.sqliteSchema()
        let postgres = try Self.postgresSchema()
        #expect(!sqlite.tables.isEmpty)
        #expect(sqlite.tables.keys.sorted() == postgres.tables.keys.sorted(), "tables differ")
        for name in sqlite.tables.keys.sorted() {
            guard let s = sqlite.tables[name], let p = postgres.tables[name] else { continue }
            #expect(s.columns == p.columns, "\(name): columns differ\n  SQLite:     \(s.columns)\n  PostgreSQL: \(p.columns)")
            #expect(s.primaryKey == p.primaryKey, "\(name): primary key \(s.primaryKey) on SQLite, \(p.primaryKey) on PostgreSQL")
            #expect(s.unique == p.unique, "\(name): unique keys \(s.unique.sorted()) on SQLite, \(p.unique.sorted()) on PostgreSQL")
            #expect(s.indexes == p.indexes, "\(name): indexes \(s.indexes.sorted()) on SQLite, \(p.indexes.sorted()) on PostgreSQL")
            #expect(
                s.foreignKeys == p.foreignKeys,
                "\(name): foreign keys \(s.foreignKeys.sorted()) on SQLite, \(p.foreignKeys.sorted()) on PostgreSQL")
            #expect(s.checks == p.checks, "\(name): checks \(s.checks.sorted()) on SQLite, \(p.checks.sorted()) on PostgreSQL")
            #expect(s.refused == p.refused, "\(name): refuses \(s.refused.sorted()) on SQLite, \(p.refused.sorted()) on PostgreSQL")
        }
    }

    @Test("the comparison sees a difference: a column, a check or a key changed on one side is reported")
    func comparisonIsSharp() async throws {
        let base = try SchemaModel(statements: ["CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL CHECK (a <> ''), b BLOB)"])
        let same = try SchemaModel(statements: ["CREATE TABLE t (id BIGSERIAL PRIMARY KEY, a TEXT NOT NULL CHECK (a<>''), b BYTEA)"])
        #expect(base == same)
        for variant in [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT CHECK (a <> ''), b BLOB)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL CHECK (a <> 'x'), b BLOB)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL CHECK (a <> ''), b TEXT)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL UNIQUE CHECK (a <> ''), b BLOB)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL CHECK (a <> ''), b BLOB REFERENCES u(id))",
            "CREATE TABLE t (id INTEGER, a TEXT NOT NULL CHECK (a <> ''), b BLOB, PRIMARY KEY (id, a))",
        ] {
            #expect(try SchemaModel(statements: [variant]) != base, "\(variant)")
        }
        #expect(throws: SchemaModel.Unreadable.self) { try SchemaModel(statements: ["CREATE VIEW v AS SELECT 1"]) }
    }

    @Test(
        "the PostgreSQL steps as read here are the schema a migrated PostgreSQL store has",
        .enabled(if: AppDatabase.testEngine == .postgres, "set PLAZO_TEST_POSTGRES to check against a PostgreSQL catalogue"))
    func postgresCatalogueMatchesTheSteps() async throws {
        let parsed = try Self.postgresSchema()
        let database = try await AppDatabase.forTesting()
        let rows = try await database.read { conn in
            try await conn.rows(
                """
                SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name <> 'plazo_migration'
                ORDER BY table_name, column_name
                """)
        }
        var catalogue: [String: [String: String]] = [:]
        for row in rows {
            let table: String = try row["table_name"]
            let column: String = try row["column_name"]
            let type: String = try row["data_type"]
            let nullable: String = try row["is_nullable"]
            let typeClass = try SchemaModel.typeClass(type)
            catalogue[table, default: [:]][column] = typeClass + (nullable == "NO" ? " not null" : "")
        }
        let expected = parsed.tables.mapValues { table in
            table.columns.mapValues { column in column.type + (column.notNull ? " not null" : "") }
        }
        #expect(catalogue == expected)
    }
}

/// A schema as the parity test compares it, read from `CREATE` statements of either dialect.
struct SchemaModel: Equatable {
    struct Column: Equatable, CustomStringConvertible {
        /// `integer`, `bytes`, `text` or `real`: SQLite's INTEGER and PostgreSQL's BIGINT and
        /// BIGSERIAL are one class, as are BLOB and BYTEA, and DATETIME (GRDB's date text) and TEXT.
        var type: String
        /// NOT NULL, or part of the primary key.
        var notNull: Bool
        var defaultValue: String?
        var description: String { type + (notNull ? " not null" : "") + (defaultValue.map { " default \($0)" } ?? "") }
    }

    struct Table: Equatable {
        var columns: [String: Column] = [:]
        var primaryKey: [String] = []
        /// Unique keys: `(a, b)`, or `(a) where <condition>` for a partial unique index.
        var unique: Set<String> = []
        /// Other indexes: `(a, b)`.
        var indexes: Set<String> = []
        /// `(a) -> t(b)`.
        var foreignKeys: Set<String> = []
        /// Normalised check expressions (tokens joined by one space, keywords lower-cased).
        var checks: Set<String> = []
        /// `UPDATE` and `DELETE` when a trigger refuses them.
        var refused: Set<String> = []
    }

    struct Unreadable: Error, CustomStringConvertible {
        let statement: String
        var description: String { "the schema parity test cannot read: \(statement)" }
    }

    var tables: [String: Table] = [:]

    init(statements: [String]) throws {
        for statement in statements {
            let tokens = Self.tokens(statement)
            guard !tokens.isEmpty else { continue }
            try read(tokens, statement)
        }
    }

    static func typeClass(_ type: String) throws -> String {
        switch type.lowercased() {
        case "integer", "bigint", "bigserial", "serial", "int", "smallint": "integer"
        case "blob", "bytea": "bytes"
        case "text", "datetime", "varchar", "character varying": "text"
        case "real", "double precision", "double": "real"
        default: throw Unreadable(statement: "column type \(type)")
        }
    }

    // MARK: - Reading statements

    private mutating func read(_ t: [String], _ statement: String) throws {
        let words = t.map { $0.lowercased() }
        func fail() -> Unreadable { Unreadable(statement: statement.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if words.starts(with: ["create", "table"]) {
            let name = words[2]
            guard t.count > 4, t[3] == "(", let close = Self.matching(t, 3) else { throw fail() }
            var table = Table()
            for item in Self.split(Array(t[4..<close])) { try Self.readItem(item, into: &table, fail) }
            tables[name] = table
        } else if words.starts(with: ["create", "index"]) || words.starts(with: ["create", "unique", "index"]) {
            let unique = words[1] == "unique"
            var i = unique ? 3 : 2
            if words[i] == "if" { i += 3 }  // IF NOT EXISTS
            i += 1  // the index's name
            guard words[i] == "on", i + 2 < t.count, t[i + 2] == "(", let close = Self.matching(t, i + 2) else { throw fail() }
            let table = words[i + 1]
            var key = "(" + Self.columnList(Array(t[(i + 3)..<close])) + ")"
            if close + 1 < t.count, words[close + 1] == "where" { key += " where " + Self.expression(Array(t[(close + 2)...])) }
            guard tables[table] != nil else { throw fail() }
            if unique { tables[table]!.unique.insert(key) } else { tables[table]!.indexes.insert(key) }
        } else if words.starts(with: ["create", "trigger"]) {
            // CREATE TRIGGER name BEFORE op [OR op] ON table …, refusing the operations (every
            // trigger of the store refuses: RAISE(ABORT, …) on SQLite, plazo_refuse on PostgreSQL).
            guard words.count > 4, words[3] == "before", let on = words.firstIndex(of: "on"), on + 1 < words.count,
                words.contains(where: { $0 == "raise" || $0 == "plazo_refuse" })
            else { throw fail() }
            let operations = words[4..<on].filter { $0 != "or" }.map { $0.uppercased() }
            guard tables[words[on + 1]] != nil else { throw fail() }
            tables[words[on + 1]]!.refused.formUnion(operations)
        } else if words.starts(with: ["create", "function"]) {
            return  // PostgreSQL's refusing function, used by the triggers above
        } else if words.starts(with: ["alter", "table"]), words.count > 5, words[3] == "add", words[4] == "column" {
            guard tables[words[2]] != nil else { throw fail() }
            try Self.readItem(Array(t[5...]), into: &tables[words[2]]!, fail)
        } else if words.starts(with: ["drop", "table"]) {
            tables[words[2]] = nil
        } else {
            throw fail()
        }
    }

    /// One item of a `CREATE TABLE` body: a column with its constraints, or a table constraint.
    private static func readItem(_ t: [String], into table: inout Table, _ fail: () -> Unreadable) throws {
        let words = t.map { $0.lowercased() }
        guard let first = words.first else { throw fail() }
        func parenthesised(at i: Int) throws -> (inner: [String], end: Int) {
            guard i < t.count, t[i] == "(", let close = matching(t, i) else { throw fail() }
            return (Array(t[(i + 1)..<close]), close + 1)
        }
        switch first {
        case "primary":
            let (cols, _) = try parenthesised(at: 2)
            table.primaryKey = columnList(cols).components(separatedBy: ", ")
            for c in table.primaryKey { table.columns[c]?.notNull = true }
        case "unique":
            table.unique.insert("(" + columnList(try parenthesised(at: 1).inner) + ")")
        case "check":
            table.checks.insert(expression(try parenthesised(at: 1).inner))
        case "foreign":
            let (cols, end) = try parenthesised(at: 2)
            guard end + 1 < t.count, words[end] == "references" else { throw fail() }
            let (targets, _) = try parenthesised(at: end + 2)
            table.foreignKeys.insert("(\(columnList(cols))) -> \(words[end + 1])(\(columnList(targets)))")
        case "constraint":
            try readItem(Array(t.dropFirst(2)), into: &table, fail)
        default:
            let name = first
            var i = 1
            var typeWords: [String] = []
            let keywords: Set<String> = ["primary", "not", "null", "unique", "references", "check", "default", "constraint", "collate"]
            while i < t.count, !keywords.contains(words[i]) {
                typeWords.append(words[i])
                i += 1
            }
            var column = Column(type: try typeClass(typeWords.joined(separator: " ")), notNull: false, defaultValue: nil)
            while i < t.count {
                switch words[i] {
                case "primary":
                    table.primaryKey = [name]
                    column.notNull = true
                    i += 2
                    if i < t.count, words[i] == "autoincrement" { i += 1 }
                case "not":
                    column.notNull = true
                    i += 2
                case "null":
                    i += 1
                case "unique":
                    table.unique.insert("(\(name))")
                    i += 1
                case "references":
                    guard i + 2 < t.count else { throw fail() }
                    let (targets, end) = try parenthesised(at: i + 2)
                    table.foreignKeys.insert("(\(name)) -> \(words[i + 1])(\(columnList(targets)))")
                    i = end
                case "check":
                    let (inner, end) = try parenthesised(at: i + 1)
                    table.checks.insert(expression(inner))
                    i = end
                case "default":
                    guard i + 1 < t.count else { throw fail() }
                    if t[i + 1] == "(" {
                        let (inner, end) = try parenthesised(at: i + 1)
                        column.defaultValue = expression(inner)
                        i = end
                    } else {
                        column.defaultValue = t[i + 1]
                        i += 2
                    }
                default:
                    throw fail()
                }
            }
            table.columns[name] = column
        }
    }

    // MARK: - Tokens

    /// The statement's tokens: words and numbers, string literals (quotes kept), parentheses,
    /// commas and operators; `--` comments and white space dropped.
    static func tokens(_ statement: String) -> [String] {
        var out: [String] = []
        let chars = Array(statement)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace || c == ";" {
                i += 1
            } else if c == "-", i + 1 < chars.count, chars[i + 1] == "-" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
            } else if c == "'" {
                var j = i + 1
                while j < chars.count {
                    if chars[j] == "'" {
                        if j + 1 < chars.count, chars[j + 1] == "'" {
                            j += 2
                            continue
                        }
                        break
                    }
                    j += 1
                }
                out.append(String(chars[i...min(j, chars.count - 1)]))
                i = j + 1
            } else if c == "\"" {
                // A quoted identifier: its name.
                var j = i + 1
                while j < chars.count, chars[j] != "\"" { j += 1 }
                out.append(String(chars[(i + 1)..<min(j, chars.count)]))
                i = j + 1
            } else if c.isLetter || c.isNumber || c == "_" || c == "$" {
                var j = i
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "$" || chars[j] == "." { j += 1 }
                out.append(String(chars[i..<j]))
                i = j
            } else if "<>=!".contains(c) {
                var j = i
                while j < chars.count, "<>=!".contains(chars[j]) { j += 1 }
                out.append(String(chars[i..<j]))
                i = j
            } else {
                out.append(String(c))
                i += 1
            }
        }
        return out
    }

    /// The index of the `)` matching the `(` at `open`.
    static func matching(_ t: [String], _ open: Int) -> Int? {
        var depth = 0
        for i in open..<t.count {
            if t[i] == "(" { depth += 1 }
            if t[i] == ")" {
                depth -= 1
                if depth == 0 { return i }
            }
        }
        return nil
    }

    /// The items of a parenthesised list, split at its top-level commas.
    static func split(_ t: [String]) -> [[String]] {
        var items: [[String]] = [[]]
        var depth = 0
        for token in t {
            if token == "(" { depth += 1 }
            if token == ")" { depth -= 1 }
            if token == ",", depth == 0 { items.append([]) } else { items[items.count - 1].append(token) }
        }
        return items.filter { !$0.isEmpty }
    }

    /// `a, b` from the tokens of a column list.
    static func columnList(_ t: [String]) -> String {
        split(t).map { $0.joined(separator: " ").lowercased() }.joined(separator: ", ")
    }

    /// An expression in one spelling: tokens joined by one space, all but string literals lower-cased.
    static func expression(_ t: [String]) -> String {
        t.map { $0.hasPrefix("'") ? $0 : $0.lowercased() }.joined(separator: " ")
    }
}
