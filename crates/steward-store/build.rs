fn main() {
    // The migrations are embedded at build time; a new file must trigger a rebuild.
    println!("cargo:rerun-if-changed=../../migrations");
}
