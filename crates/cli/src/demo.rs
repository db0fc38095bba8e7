pub fn run(_a: &crate::args::DemoArgs, _db: Option<&std::path::Path>) -> anyhow::Result<()> { Ok(()) }
