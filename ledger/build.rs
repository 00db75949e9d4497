// Re-embed the migrations when a file is added to them.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
