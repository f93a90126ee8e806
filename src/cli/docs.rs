//! Generated documentation: man pages (clap_mangen) and shell completions (clap_complete)
//! from the clap definitions, written by the hidden `kiste __generate-docs` into man/ and
//! completions/. Reads only the command tree; writes only the two directories it is given.

use clap::CommandFactory;
use std::path::Path;

fn render_man(cmd: &clap::Command, name: &str, dir: &Path) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone().bin_name(name.replace('-', " "))).title(name.to_uppercase()).render(&mut buf)?;
    std::fs::write(dir.join(format!("{name}.1")), buf)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        render_man(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}

/// Writes `kiste.1`, `kiste-<cmd>.1`... into `man` and kiste.bash/_kiste/kiste.fish into `completions`.
pub fn generate(man: &Path, completions: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(man)?;
    std::fs::create_dir_all(completions)?;
    let mut cmd = super::Cli::command();
    cmd.build();
    render_man(&cmd, "kiste", man)?;
    use clap_complete::Shell;
    for (shell, file) in [(Shell::Bash, "kiste.bash"), (Shell::Zsh, "_kiste"), (Shell::Fish, "kiste.fish")] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut super::Cli::command(), "kiste", &mut buf);
        std::fs::write(completions.join(file), buf)?;
    }
    Ok(())
}
