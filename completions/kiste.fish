# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kiste_global_optspecs
    string join \n log-level= h/help V/version
end

function __fish_kiste_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kiste_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kiste_using_subcommand
    set -l cmd (__fish_kiste_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kiste -n "__fish_kiste_needs_command" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_needs_command" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_needs_command" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "pull" -d 'Pull an image from a registry'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "images" -d 'List images in local storage'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "rmi" -d 'Remove one or more images'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "tag" -d 'Add names to an image'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "untag" -d 'Remove names from an image'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "inspect" -d 'Show details of images'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "image" -d 'Manage images'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "login" -d 'Log in to a container registry'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "logout" -d 'Log out of a container registry'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "version" -d 'Show the kiste version'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "info" -d 'Show information about the host and the store'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "unshare" -d 'Run a command in the user namespace kiste uses for the store (as `podman unshare`)'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "system" -d 'Manage kiste itself'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "completion" -d 'Generate shell completion scripts'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "__generate-docs" -d 'Write man pages and completion scripts (for maintainers)'
complete -c kiste -n "__fish_kiste_using_subcommand pull" -l tls-verify -d 'Require HTTPS and verify certificates (default: as registries.conf says)' -r -f -a "true\t''
false\t''"
complete -c kiste -n "__fish_kiste_using_subcommand pull" -l platform -d 'Pull for this platform (os/arch[/variant]) instead of the host\'s' -r
complete -c kiste -n "__fish_kiste_using_subcommand pull" -l arch -d 'Use ARCH instead of the host\'s architecture' -r
complete -c kiste -n "__fish_kiste_using_subcommand pull" -l os -d 'Use OS instead of linux' -r
complete -c kiste -n "__fish_kiste_using_subcommand pull" -l variant -d 'Use VARIANT instead of the default for the architecture' -r
complete -c kiste -n "__fish_kiste_using_subcommand pull" -l creds -d 'Credentials USERNAME[:PASSWORD] for the registry' -r
complete -c kiste -n "__fish_kiste_using_subcommand pull" -l authfile -d 'Path of the authentication file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand pull" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand pull" -s q -l quiet -d 'Suppress progress output'
complete -c kiste -n "__fish_kiste_using_subcommand pull" -s a -l all-tags -d 'Pull every tag of the repository (not supported yet)'
complete -c kiste -n "__fish_kiste_using_subcommand pull" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand pull" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand images" -l format -d 'Output format: json or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand images" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand images" -s a -l all -d 'Show all images (including intermediate ones)'
complete -c kiste -n "__fish_kiste_using_subcommand images" -s q -l quiet -d 'Show only image IDs'
complete -c kiste -n "__fish_kiste_using_subcommand images" -l digests -d 'Show digests'
complete -c kiste -n "__fish_kiste_using_subcommand images" -l no-trunc -d 'Do not truncate output'
complete -c kiste -n "__fish_kiste_using_subcommand images" -s n -l noheading -d 'Do not print column headings'
complete -c kiste -n "__fish_kiste_using_subcommand images" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand images" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand rmi" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand rmi" -s f -l force -d 'Remove the image even when it has several names'
complete -c kiste -n "__fish_kiste_using_subcommand rmi" -s a -l all -d 'Remove all images'
complete -c kiste -n "__fish_kiste_using_subcommand rmi" -s i -l ignore -d 'Do not fail when an image does not exist'
complete -c kiste -n "__fish_kiste_using_subcommand rmi" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand rmi" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand tag" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand tag" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand tag" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand untag" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand untag" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand untag" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand inspect" -s f -l format -d 'Output format: json (default) or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand inspect" -s t -l type -d 'Only "image" is known so far' -r
complete -c kiste -n "__fish_kiste_using_subcommand inspect" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -f -a "pull" -d 'Pull an image from a registry'
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -f -a "ls" -d 'List images in local storage'
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -f -a "rm" -d 'Remove one or more images'
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -f -a "tag" -d 'Add names to an image'
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -f -a "untag" -d 'Remove names from an image'
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -f -a "inspect" -d 'Show details of images'
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -f -a "prune" -d 'Remove unused images'
complete -c kiste -n "__fish_kiste_using_subcommand image; and not __fish_seen_subcommand_from pull ls rm tag untag inspect prune exists" -f -a "exists" -d 'Exit 0 when the image exists locally, 1 when it does not'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -l tls-verify -d 'Require HTTPS and verify certificates (default: as registries.conf says)' -r -f -a "true\t''
false\t''"
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -l platform -d 'Pull for this platform (os/arch[/variant]) instead of the host\'s' -r
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -l arch -d 'Use ARCH instead of the host\'s architecture' -r
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -l os -d 'Use OS instead of linux' -r
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -l variant -d 'Use VARIANT instead of the default for the architecture' -r
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -l creds -d 'Credentials USERNAME[:PASSWORD] for the registry' -r
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -l authfile -d 'Path of the authentication file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -s q -l quiet -d 'Suppress progress output'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -s a -l all-tags -d 'Pull every tag of the repository (not supported yet)'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from pull" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from ls" -l format -d 'Output format: json or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from ls" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from ls" -s a -l all -d 'Show all images (including intermediate ones)'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Show only image IDs'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from ls" -l digests -d 'Show digests'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from ls" -l no-trunc -d 'Do not truncate output'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from ls" -s n -l noheading -d 'Do not print column headings'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from rm" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from rm" -s f -l force -d 'Remove the image even when it has several names'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from rm" -s a -l all -d 'Remove all images'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from rm" -s i -l ignore -d 'Do not fail when an image does not exist'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from tag" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from tag" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from tag" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from untag" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from untag" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from untag" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from inspect" -s f -l format -d 'Output format: json (default) or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from inspect" -s t -l type -d 'Only "image" is known so far' -r
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from inspect" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from prune" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from prune" -s a -l all -d 'Remove all unused images, not just dangling ones'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not ask for confirmation'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from exists" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from exists" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from exists" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand login" -s u -l username -d 'Username for the registry' -r
complete -c kiste -n "__fish_kiste_using_subcommand login" -s p -l password -d 'Password for the registry (prefer --password-stdin)' -r
complete -c kiste -n "__fish_kiste_using_subcommand login" -l tls-verify -d 'Require HTTPS and verify certificates (default: as registries.conf says)' -r -f -a "true\t''
false\t''"
complete -c kiste -n "__fish_kiste_using_subcommand login" -l authfile -d 'Path of the authentication file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand login" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand login" -l password-stdin -d 'Read the password from standard input'
complete -c kiste -n "__fish_kiste_using_subcommand login" -l get-login -d 'Print the user name stored for the registry'
complete -c kiste -n "__fish_kiste_using_subcommand login" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand login" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand logout" -l authfile -d 'Path of the authentication file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand logout" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand logout" -s a -l all -d 'Remove the credentials of every registry'
complete -c kiste -n "__fish_kiste_using_subcommand logout" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand logout" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand version" -s f -l format -d 'Output format: json or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand version" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand version" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand version" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand info" -s f -l format -d 'Output format: json or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand info" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand info" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand info" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand unshare" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand unshare" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand unshare" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info" -f -a "info" -d 'Show information about the host and the store'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from info" -s f -l format -d 'Output format: json or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from info" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from info" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from info" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand completion" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand __generate-docs" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand __generate-docs" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand __generate-docs" -s V -l version -d 'Print version'
