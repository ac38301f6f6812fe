//! The input syntax of `opdeck call`: `--input` and the field words, as
//! httpie and xh users write them.
//!
//! | word             | value                                                      |
//! |------------------|------------------------------------------------------------|
//! | `name=value`     | typed by the schema of the parameter or body property      |
//! | `name:=json`     | raw JSON                                                   |
//! | `name=@file`     | the file's text, as a string                               |
//! | `name:=@file`    | the file's JSON                                            |
//! | `name@file`      | a file upload: `{"path": file}`, which core streams        |
//!
//! A name is a parameter key, or a path into the body: `body.a.b` nests
//! objects, `body.items[]` appends to an array. For an operation that takes
//! a body, a name that is no parameter is a body field without the `body.`
//! too (`username=ann`), as in httpie; `body.` is needed only for a body
//! property named like a parameter. Typing reads the schema:
//! a string stays a string (`password=12345678`), integers, numbers and
//! booleans are parsed, arrays come from repeating a name or from the
//! parameter's separator (`ids=1,2` for `style: form, explode: false`). A
//! name with no schema (Kitsu's filters on any field) takes the text as is.
//!
//! `--input` is JSON or YAML: an object with a `body` key, or whose keys are
//! all parameters, is the whole input; otherwise, for an operation that takes
//! a body, the object (or any other value) is the body.

mod assemble;
mod field;
mod typing;

pub use assemble::build;
