//! Compiles `proto/` in pure Rust (protox), so a fresh machine needs no `protoc`.
//!
//! Besides the prost/tonic code it writes two things:
//! - `idv_descriptor.bin`, the file descriptor set served by gRPC reflection;
//! - `<package>.debug.rs` per `idv.*` package: a `Debug` impl for every generated type
//!   that prints only the type's name. Messages carry PINFLs, names, documents and photos,
//!   and prost's derived `Debug` would print them into any log line that formats a request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use heck::{ToSnakeCase, ToUpperCamelCase};
use prost::Message as _;
use prost_types::{DescriptorProto, FileDescriptorSet};

const PROTOS: &[&str] = &[
    "idv/ableid/v1/ableid.proto",
    "idv/baf/v1/applicants.proto",
    "idv/baf/v1/validation.proto",
    "idv/b2core/v1/verifications.proto",
    "idv/attempts/v1/attempts.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let fds = protox::compile(PROTOS, ["proto"])?;
    std::fs::write(out_dir.join("idv_descriptor.bin"), fds.encode_to_vec())?;
    write_redacted_debug(&fds, &out_dir)?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .skip_debug([".idv"])
        .compile_fds(fds)?;
    Ok(())
}

/// Writes the name-only `Debug` impls for the types `skip_debug` left without one.
fn write_redacted_debug(fds: &FileDescriptorSet, out_dir: &std::path::Path) -> std::io::Result<()> {
    let mut by_package: BTreeMap<String, String> = BTreeMap::new();
    for file in &fds.file {
        let package = file.package();
        if !package.starts_with("idv.") {
            continue;
        }
        let code = by_package.entry(package.to_owned()).or_default();
        for message in &file.message_type {
            message_impls(message, "", code);
        }
        for enumeration in &file.enum_type {
            enum_impl(&rust_type(enumeration.name()), code);
        }
    }
    for (package, code) in by_package {
        std::fs::write(out_dir.join(format!("{package}.debug.rs")), code)?;
    }
    Ok(())
}

fn message_impls(message: &DescriptorProto, module: &str, code: &mut String) {
    let path = format!("{module}{}", rust_type(message.name()));
    struct_impl(&path, message.name(), code);

    let nested = format!("{module}{}::", message.name().to_snake_case());
    for (index, oneof) in message.oneof_decl.iter().enumerate() {
        // proto3 `optional` fields live in synthetic oneofs that prost turns into `Option`s.
        let synthetic =
            message.field.iter().filter(|f| f.oneof_index == Some(index as i32)).all(|f| f.proto3_optional());
        if !synthetic {
            struct_impl(&format!("{nested}{}", rust_type(oneof.name())), oneof.name(), code);
        }
    }
    for inner in &message.nested_type {
        if !inner.options.as_ref().is_some_and(|o| o.map_entry()) {
            message_impls(inner, &nested, code);
        }
    }
    for enumeration in &message.enum_type {
        enum_impl(&format!("{nested}{}", rust_type(enumeration.name())), code);
    }
}

fn struct_impl(path: &str, name: &str, code: &mut String) {
    let _ = writeln!(
        code,
        "impl ::core::fmt::Debug for {path} {{\n    \
         fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{\n        \
         f.debug_struct(\"{name}\").finish_non_exhaustive()\n    }}\n}}"
    );
}

fn enum_impl(path: &str, code: &mut String) {
    let _ = writeln!(
        code,
        "impl ::core::fmt::Debug for {path} {{\n    \
         fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{\n        \
         f.write_str(self.as_str_name())\n    }}\n}}"
    );
}

fn rust_type(proto_name: &str) -> String {
    proto_name.to_upper_camel_case()
}
