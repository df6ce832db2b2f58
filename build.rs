//! Compiles `proto/` in pure Rust (protox), so a fresh machine needs no `protoc`.
//!
//! Every `.proto` under `proto/idv/` is compiled, so a new vendor's package needs no line
//! here. Besides the prost/tonic code it writes:
//! - `idv_descriptor.bin`, the file descriptor set served by gRPC reflection;
//! - `<package>.debug.rs` per `idv.*` package: a `Debug` impl for every generated type
//!   that prints only the type's name. Messages carry PINFLs, names, documents and photos,
//!   and prost's derived `Debug` would print them into any log line that formats a request;
//! - `<package>.oneof.rs`: for every oneof, `field_name()` (the proto name of the field
//!   that is set) and, when all its fields are strings, `value()`, so the core can read
//!   "which vendor's id" from a request without naming any vendor;
//! - `idv_packages.rs`: the module tree of every package, and a short alias per vendor;
//! - `<package>.<Service>.rs` for each service in [`PRE_ENCODED`]: a second server of that
//!   service whose listed methods answer bytes encoded once (see `grpc::frames`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use heck::{ToSnakeCase, ToUpperCamelCase};
use prost::Message as _;
use prost_types::field_descriptor_proto::Type;
use prost_types::{DescriptorProto, FileDescriptorSet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut protos = Vec::new();
    find_protos(Path::new("proto"), Path::new("proto/idv"), &mut protos)?;
    protos.sort();
    let fds = protox::compile(&protos, ["proto"])?;
    std::fs::write(out_dir.join("idv_descriptor.bin"), fds.encode_to_vec())?;
    write_extras(&fds, &out_dir)?;

    write_pre_encoded_servers(&fds);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .skip_debug([".idv"])
        .compile_fds(fds)?;
    Ok(())
}

/// Methods whose server answers messages encoded once and shared, `(service, method)`.
/// `WatchAttempt` sends each new event to every watcher of the attempt: encoding it once
/// for all of them, not once per watcher, is what lets one hook reach thousands of watchers
/// cheaply. tonic's generated server encodes every message itself, so these services get
/// a second server, generated here from the same descriptors, whose listed methods stream
/// `crate::grpc::frames::Frame` (the encoded bytes) through `FrameCodec`; on the wire it is
/// the same message.
const PRE_ENCODED: &[(&str, &str)] = &[("idv.attempts.v1.AttemptService", "WatchAttempt")];

fn write_pre_encoded_servers(fds: &FileDescriptorSet) {
    use tonic_prost_build::manual::{Builder, Method, Service};
    // `.idv.attempts.v1.Attempt` -> `crate::proto::idv::attempts::v1::Attempt`
    let rust_path = |proto: &str| format!("crate::proto{}", proto.replace('.', "::"));
    let mut services = Vec::new();
    for file in &fds.file {
        for service in &file.service {
            let full_name = format!("{}.{}", file.package(), service.name());
            if !PRE_ENCODED.iter().any(|(s, _)| *s == full_name) {
                continue;
            }
            let mut builder = Service::builder().name(service.name()).package(file.package());
            for method in &service.method {
                let pre_encoded = PRE_ENCODED.contains(&(full_name.as_str(), method.name()));
                let mut m = Method::builder()
                    .name(method.name().to_snake_case())
                    .route_name(method.name())
                    .input_type(rust_path(method.input_type()));
                m = if pre_encoded {
                    m.output_type("crate::grpc::frames::Frame").codec_path("crate::grpc::frames::FrameCodec")
                } else {
                    m.output_type(rust_path(method.output_type())).codec_path("tonic_prost::ProstCodec")
                };
                if method.client_streaming() {
                    m = m.client_streaming();
                }
                if method.server_streaming() {
                    m = m.server_streaming();
                }
                builder = builder.method(m.build());
            }
            services.push(builder.build());
        }
    }
    Builder::new().build_client(false).build_transport(false).compile(&services);
}

/// Every `.proto` file under `dir`, relative to `root`.
fn find_protos(root: &Path, dir: &Path, protos: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            find_protos(root, &path, protos)?;
        } else if path.extension().is_some_and(|e| e == "proto")
            && let Ok(relative) = path.strip_prefix(root)
        {
            protos.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Writes the name-only `Debug` impls, the oneof helpers and the module tree.
fn write_extras(fds: &FileDescriptorSet, out_dir: &Path) -> std::io::Result<()> {
    let mut debug: BTreeMap<String, String> = BTreeMap::new();
    let mut oneofs: BTreeMap<String, String> = BTreeMap::new();
    for file in &fds.file {
        let package = file.package();
        if !package.starts_with("idv.") {
            continue;
        }
        let code = debug.entry(package.to_owned()).or_default();
        let helpers = oneofs.entry(package.to_owned()).or_default();
        for message in &file.message_type {
            message_extras(message, "", code, helpers);
        }
        for enumeration in &file.enum_type {
            enum_impl(&rust_type(enumeration.name()), code);
        }
    }
    for (package, code) in &debug {
        std::fs::write(out_dir.join(format!("{package}.debug.rs")), code)?;
    }
    for (package, code) in &oneofs {
        std::fs::write(out_dir.join(format!("{package}.oneof.rs")), code)?;
    }
    std::fs::write(out_dir.join("idv_packages.rs"), module_tree(debug.keys()))?;
    Ok(())
}

fn message_extras(message: &DescriptorProto, module: &str, debug: &mut String, oneofs: &mut String) {
    let path = format!("{module}{}", rust_type(message.name()));
    struct_impl(&path, message.name(), debug);

    let nested = format!("{module}{}::", message.name().to_snake_case());
    for (index, oneof) in message.oneof_decl.iter().enumerate() {
        let fields: Vec<_> = message.field.iter().filter(|f| f.oneof_index == Some(index as i32)).collect();
        // proto3 `optional` fields live in synthetic oneofs that prost turns into `Option`s.
        if fields.iter().all(|f| f.proto3_optional()) {
            continue;
        }
        let oneof_path = format!("{nested}{}", rust_type(oneof.name()));
        struct_impl(&oneof_path, oneof.name(), debug);
        let _ = writeln!(oneofs, "impl {oneof_path} {{");
        let _ = writeln!(oneofs, "    /// The proto name of the field that is set.");
        let _ = writeln!(oneofs, "    pub fn field_name(&self) -> &'static str {{\n        match self {{");
        for field in &fields {
            let _ =
                writeln!(oneofs, "            Self::{}(_) => \"{}\",", rust_type(field.name()), field.name());
        }
        let _ = writeln!(oneofs, "        }}\n    }}");
        if fields.iter().all(|f| f.r#type() == Type::String) {
            let _ = writeln!(oneofs, "    /// The value of the field that is set.");
            let _ = writeln!(oneofs, "    pub fn value(&self) -> &str {{\n        match self {{");
            for field in &fields {
                let _ = writeln!(oneofs, "            Self::{}(value) => value,", rust_type(field.name()));
            }
            let _ = writeln!(oneofs, "        }}\n    }}");
        }
        let _ = writeln!(oneofs, "}}");
    }
    for inner in &message.nested_type {
        if !inner.options.as_ref().is_some_and(|o| o.map_entry()) {
            message_extras(inner, &nested, debug, oneofs);
        }
    }
    for enumeration in &message.enum_type {
        enum_impl(&format!("{nested}{}", rust_type(enumeration.name())), debug);
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

/// `pub mod idv { pub mod ableid { pub mod v1 { ... } } }` for every package, each
/// including its generated files, and `pub use idv::ableid::v1 as ableid;` per package.
fn module_tree<'a>(packages: impl Iterator<Item = &'a String>) -> String {
    #[derive(Default)]
    struct Node(BTreeMap<String, Node>, Option<String>);
    let mut root = Node::default();
    let mut aliases = Vec::new();
    for package in packages {
        let mut node = &mut root;
        for part in package.split('.') {
            node = node.0.entry(part.to_owned()).or_default();
        }
        node.1 = Some(package.clone());
        let parts: Vec<&str> = package.split('.').collect();
        if let [_, name, _] = parts.as_slice() {
            aliases.push(format!("pub use {} as {name};\n", parts.join("::")));
        }
    }
    fn write(node: &Node, code: &mut String) {
        for (name, child) in &node.0 {
            let _ = writeln!(code, "pub mod {name} {{");
            if let Some(package) = &child.1 {
                for suffix in ["rs", "debug.rs", "oneof.rs"] {
                    let _ = writeln!(code, "include!(concat!(env!(\"OUT_DIR\"), \"/{package}.{suffix}\"));");
                }
            }
            write(child, code);
            let _ = writeln!(code, "}}");
        }
    }
    let mut code = String::new();
    write(&root, &mut code);
    code.extend(aliases);
    code
}
