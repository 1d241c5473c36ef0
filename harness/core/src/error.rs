//! Errors of the core layers. A violated contract is data (a `Verdict`), never an `Err`:
//! these errors mean "could not check".

/// Why the specs could not be loaded into a registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A required file or directory is absent.
    #[error("{file}: not found")]
    Missing {
        /// The path looked for.
        file: String,
    },
    /// A directory under the specs root leads back to one already walked (a symbolic link
    /// loop).
    #[error("{file}: symbolic link loop: leads back to {target}, already read")]
    SymlinkLoop {
        /// The directory reached through the link.
        file: String,
        /// The directory it resolves to.
        target: String,
    },
    /// A file could not be read.
    #[error("{file}: cannot read")]
    Io {
        /// The path.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A schema file is not JSON.
    #[error("specs/{file}:{line}:{column}: not valid JSON: {message}")]
    Parse {
        /// Path relative to the specs root.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A schema file fails draft 2020-12 meta-validation.
    #[error("specs/{file}: not a valid draft 2020-12 schema:\n  {}", errors.join("\n  "))]
    MetaSchema {
        /// Path relative to the specs root.
        file: String,
        /// One line per meta-schema violation, with its JSON path and line.
        errors: Vec<String>,
    },
    /// A `$ref` is remote, leaves the specs tree, or names no loaded file.
    #[error("specs/{file}:{line}: $ref \"{reference}\" at {pointer}: {message}")]
    Ref {
        /// Path relative to the specs root.
        file: String,
        /// 1-based line of the reference.
        line: usize,
        /// JSON pointer of the `$ref` member.
        pointer: String,
        /// The reference as written.
        reference: String,
        /// Why it is refused.
        message: String,
    },
    /// `$ref`s (or in-place applicators) that lead back to where they started without reading
    /// any part of the instance: evaluating them never ends (JSON Schema 2020-12 Core §9.4.1).
    #[error(
        "specs/{file}: $ref cycle with no base case: {}: evaluation would loop on the same instance forever (JSON Schema 2020-12 Core §9.4.1)",
        cycle.join(" -> ")
    )]
    RefCycle {
        /// The file where the cycle was entered, relative to the specs root.
        file: String,
        /// The schema locations of the cycle, `file#pointer`, its first repeated at the end.
        cycle: Vec<String>,
    },
    /// The files could not be indexed for `$ref` resolution.
    #[error("{file}: cannot resolve references: {message}")]
    Resolve {
        /// The specs root.
        file: String,
        /// The resolver's message.
        message: String,
    },
    /// The validator refused to compile a schema.
    #[error("specs/{file}: cannot compile: {message}")]
    Compile {
        /// Path relative to the specs root.
        file: String,
        /// The compiler's message.
        message: String,
    },
    /// A schema breaks a rule of the catalogue's layout (names, annotations).
    #[error("specs/{file}: {message}")]
    Contract {
        /// Path relative to the specs root.
        file: String,
        /// What is wrong.
        message: String,
    },
}
