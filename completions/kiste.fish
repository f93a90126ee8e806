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
complete -c kiste -n "__fish_kiste_needs_command" -f -a "exec" -d 'Run a process in a running container'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "run" -d 'Run a command in a new container'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "create" -d 'Create a container without starting it'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "start" -d 'Start created or stopped containers'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "ps" -d 'List containers'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "logs" -d 'Show a container\'s output'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "stop" -d 'Stop containers (stop signal, then SIGKILL after the timeout)'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "kill" -d 'Send a signal to containers'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "rm" -d 'Remove containers'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "wait" -d 'Wait for containers to exit and print their exit codes'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "restart" -d 'Stop and start containers again'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "rename" -d 'Give a container a new name'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "top" -d 'Show the processes of a running container'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "port" -d 'Show a container\'s published ports (all, or where PORT[/PROTO] is published)'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "attach" -d 'Attach to a running container\'s input and output'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "container" -d 'Manage containers'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "pull" -d 'Pull an image from a registry'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "images" -d 'List images in local storage'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "rmi" -d 'Remove one or more images'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "tag" -d 'Add names to an image'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "untag" -d 'Remove names from an image'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "inspect" -d 'Show details of images'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "image" -d 'Manage images'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "login" -d 'Log in to a container registry'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "logout" -d 'Log out of a container registry'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "network" -d 'Manage user-defined networks'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "version" -d 'Show the kiste version'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "info" -d 'Show information about the host and the store'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "unshare" -d 'Run a command in the user namespace kiste uses for the store (as `podman unshare`)'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "system" -d 'Manage kiste itself'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "completion" -d 'Generate shell completion scripts'
complete -c kiste -n "__fish_kiste_needs_command" -f -a "__generate-docs" -d 'Write man pages and completion scripts (for maintainers)'
complete -c kiste -n "__fish_kiste_using_subcommand exec" -s e -l env -d 'Set environment variables' -r
complete -c kiste -n "__fish_kiste_using_subcommand exec" -s u -l user -d 'Run as USER[:GROUP]' -r
complete -c kiste -n "__fish_kiste_using_subcommand exec" -s w -l workdir -d 'Working directory' -r
complete -c kiste -n "__fish_kiste_using_subcommand exec" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand exec" -s d -l detach -d 'Run in the background'
complete -c kiste -n "__fish_kiste_using_subcommand exec" -s i -l interactive -d 'Keep stdin open'
complete -c kiste -n "__fish_kiste_using_subcommand exec" -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c kiste -n "__fish_kiste_using_subcommand exec" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand exec" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand run" -l detach-keys -d 'Key sequence that detaches from a terminal (default ctrl-p,ctrl-q)' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l name -d 'Assign a name to the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to copy it from this environment)' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l env-file -d 'Read environment variables from a file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand run" -s w -l workdir -d 'Working directory inside the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -s u -l user -d 'Run as USER[:GROUP] (names or numbers)' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l entrypoint -d 'Override the image\'s entrypoint' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -s h -l hostname -d 'Container host name' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l network -d 'Network: pasta (the default when installed), slirp4netns, none, host, container:NAME, or the name of a user-defined network (`kiste network create`)' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l network-alias -d 'Another name for the container on its user-defined network' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l ip -d 'A fixed IPv4 address on the user-defined network' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -s p -l publish -d 'Publish a port: [HOSTIP:][HOSTPORT:]PORT[/tcp|/udp], ranges as 8080-8081:80-81' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l expose -d 'Expose a port (or range) for -P: PORT[/PROTO]' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l dns -d 'DNS server for the container\'s /etc/resolv.conf (instead of the host\'s)' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l dns-search -d 'DNS search domain' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l dns-option -d 'DNS resolver option' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l add-host -d 'Add NAME:IP to the container\'s /etc/hosts (IP may be host-gateway)' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -s l -l label -d 'Add a label KEY=VALUE' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l stop-signal -d 'Signal that stops the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l stop-timeout -d 'Seconds to wait before killing the container on stop' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l cap-add -d 'Add capabilities' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l cap-drop -d 'Drop capabilities' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l pull -d 'Pull policy: missing, always, newer, never' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l tls-verify -d 'Require HTTPS and verify certificates when pulling' -r -f -a "true\t''
false\t''"
complete -c kiste -n "__fish_kiste_using_subcommand run" -l group-add -d 'Add the process to more groups (names from the image\'s /etc/group, or numbers)' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l annotation -d 'Add an annotation KEY=VALUE to the container\'s runtime spec' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l ulimit -d 'Resource limit NAME=SOFT[:HARD] (nofile, nproc, core, stack, ...; -1 for unlimited)' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l tmpfs -d 'Mount a tmpfs at PATH[:OPTIONS]' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l shm-size -d 'Size of /dev/shm (e.g. 64m, 1g)' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l security-opt -d 'Security options: no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l cidfile -d 'Write the container ID to this file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand run" -l userns -d 'User namespace: keep-id (your uid and gid keep their numbers inside), or host' -r
complete -c kiste -n "__fish_kiste_using_subcommand run" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand run" -s d -l detach -d 'Run in the background and print the container ID'
complete -c kiste -n "__fish_kiste_using_subcommand run" -l rm -d 'Remove the container when it exits'
complete -c kiste -n "__fish_kiste_using_subcommand run" -l read-only -d 'Mount the root filesystem read-only'
complete -c kiste -n "__fish_kiste_using_subcommand run" -s P -l publish-all -d 'Publish every exposed port (image EXPOSE and --expose) to a free host port'
complete -c kiste -n "__fish_kiste_using_subcommand run" -l no-hosts -d 'Keep the image\'s /etc/hosts instead of kiste\'s'
complete -c kiste -n "__fish_kiste_using_subcommand run" -l replace -d 'Replace an existing container of the same name'
complete -c kiste -n "__fish_kiste_using_subcommand run" -l privileged -d 'Give the container all capabilities (as rootless Podman means it)'
complete -c kiste -n "__fish_kiste_using_subcommand run" -s i -l interactive -d 'Keep stdin open (accepted; stdin is passed to attached containers)'
complete -c kiste -n "__fish_kiste_using_subcommand run" -s t -l tty -d 'Allocate a pseudo-terminal for the container'
complete -c kiste -n "__fish_kiste_using_subcommand run" -l init -d 'Run a tiny init as PID 1 that forwards signals and reaps zombies'
complete -c kiste -n "__fish_kiste_using_subcommand run" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand run" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand create" -l name -d 'Assign a name to the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to copy it from this environment)' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l env-file -d 'Read environment variables from a file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand create" -s w -l workdir -d 'Working directory inside the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -s u -l user -d 'Run as USER[:GROUP] (names or numbers)' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l entrypoint -d 'Override the image\'s entrypoint' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -s h -l hostname -d 'Container host name' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l network -d 'Network: pasta (the default when installed), slirp4netns, none, host, container:NAME, or the name of a user-defined network (`kiste network create`)' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l network-alias -d 'Another name for the container on its user-defined network' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l ip -d 'A fixed IPv4 address on the user-defined network' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -s p -l publish -d 'Publish a port: [HOSTIP:][HOSTPORT:]PORT[/tcp|/udp], ranges as 8080-8081:80-81' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l expose -d 'Expose a port (or range) for -P: PORT[/PROTO]' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l dns -d 'DNS server for the container\'s /etc/resolv.conf (instead of the host\'s)' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l dns-search -d 'DNS search domain' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l dns-option -d 'DNS resolver option' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l add-host -d 'Add NAME:IP to the container\'s /etc/hosts (IP may be host-gateway)' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -s l -l label -d 'Add a label KEY=VALUE' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l stop-signal -d 'Signal that stops the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l stop-timeout -d 'Seconds to wait before killing the container on stop' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l cap-add -d 'Add capabilities' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l cap-drop -d 'Drop capabilities' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l pull -d 'Pull policy: missing, always, newer, never' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l tls-verify -d 'Require HTTPS and verify certificates when pulling' -r -f -a "true\t''
false\t''"
complete -c kiste -n "__fish_kiste_using_subcommand create" -l group-add -d 'Add the process to more groups (names from the image\'s /etc/group, or numbers)' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l annotation -d 'Add an annotation KEY=VALUE to the container\'s runtime spec' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l ulimit -d 'Resource limit NAME=SOFT[:HARD] (nofile, nproc, core, stack, ...; -1 for unlimited)' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l tmpfs -d 'Mount a tmpfs at PATH[:OPTIONS]' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l shm-size -d 'Size of /dev/shm (e.g. 64m, 1g)' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l security-opt -d 'Security options: no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l cidfile -d 'Write the container ID to this file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand create" -l userns -d 'User namespace: keep-id (your uid and gid keep their numbers inside), or host' -r
complete -c kiste -n "__fish_kiste_using_subcommand create" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand create" -l rm -d 'Remove the container when it exits'
complete -c kiste -n "__fish_kiste_using_subcommand create" -l read-only -d 'Mount the root filesystem read-only'
complete -c kiste -n "__fish_kiste_using_subcommand create" -s P -l publish-all -d 'Publish every exposed port (image EXPOSE and --expose) to a free host port'
complete -c kiste -n "__fish_kiste_using_subcommand create" -l no-hosts -d 'Keep the image\'s /etc/hosts instead of kiste\'s'
complete -c kiste -n "__fish_kiste_using_subcommand create" -l replace -d 'Replace an existing container of the same name'
complete -c kiste -n "__fish_kiste_using_subcommand create" -l privileged -d 'Give the container all capabilities (as rootless Podman means it)'
complete -c kiste -n "__fish_kiste_using_subcommand create" -s i -l interactive -d 'Keep stdin open (accepted; stdin is passed to attached containers)'
complete -c kiste -n "__fish_kiste_using_subcommand create" -s t -l tty -d 'Allocate a pseudo-terminal for the container'
complete -c kiste -n "__fish_kiste_using_subcommand create" -l init -d 'Run a tiny init as PID 1 that forwards signals and reaps zombies'
complete -c kiste -n "__fish_kiste_using_subcommand create" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand create" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand start" -l detach-keys -d 'Key sequence that detaches from a terminal (default ctrl-p,ctrl-q)' -r
complete -c kiste -n "__fish_kiste_using_subcommand start" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand start" -s a -l attach -d 'Attach to the container\'s output and return its exit code'
complete -c kiste -n "__fish_kiste_using_subcommand start" -s i -l interactive -d 'Accepted for Podman\'s sake: stdin is attached when the container was created with -i'
complete -c kiste -n "__fish_kiste_using_subcommand start" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand start" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand ps" -s n -l last -d 'Show the last N containers' -r
complete -c kiste -n "__fish_kiste_using_subcommand ps" -s f -l filter -d 'Filter: name=, status=, label=, ancestor=, id=' -r
complete -c kiste -n "__fish_kiste_using_subcommand ps" -l format -d 'Output format: json, or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand ps" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand ps" -s a -l all -d 'Show all containers, not only running ones'
complete -c kiste -n "__fish_kiste_using_subcommand ps" -s q -l quiet -d 'Show only container IDs'
complete -c kiste -n "__fish_kiste_using_subcommand ps" -s l -l latest -d 'Show the latest container'
complete -c kiste -n "__fish_kiste_using_subcommand ps" -l no-trunc -d 'Do not truncate IDs and commands'
complete -c kiste -n "__fish_kiste_using_subcommand ps" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand ps" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand logs" -l tail -d 'Show only the last N lines' -r
complete -c kiste -n "__fish_kiste_using_subcommand logs" -l since -d 'Show lines written since a time, Unix seconds, or a duration before now (10m)' -r
complete -c kiste -n "__fish_kiste_using_subcommand logs" -l until -d 'Show lines written until a time, Unix seconds, or a duration before now' -r
complete -c kiste -n "__fish_kiste_using_subcommand logs" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand logs" -s f -l follow -d 'Keep following the output'
complete -c kiste -n "__fish_kiste_using_subcommand logs" -s t -l timestamps -d 'Show the time of each line'
complete -c kiste -n "__fish_kiste_using_subcommand logs" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand logs" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand stop" -s t -l time -d 'Seconds to wait before killing the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand stop" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand stop" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand stop" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand kill" -s s -l signal -d 'Signal to send' -r
complete -c kiste -n "__fish_kiste_using_subcommand kill" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand kill" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand kill" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand rm" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand rm" -s f -l force -d 'Stop running containers first'
complete -c kiste -n "__fish_kiste_using_subcommand rm" -s a -l all -d 'Remove all containers'
complete -c kiste -n "__fish_kiste_using_subcommand rm" -s v -l volumes -d 'Remove anonymous volumes (none exist yet)'
complete -c kiste -n "__fish_kiste_using_subcommand rm" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand rm" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand wait" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand wait" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand wait" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand restart" -s t -l time -d 'Seconds to wait before killing the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand restart" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand restart" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand restart" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand rename" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand rename" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand rename" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand top" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand top" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand top" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand port" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand port" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand port" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand attach" -l sig-proxy -d 'Forward received signals to the container (non-terminal containers)' -r -f -a "true\t''
false\t''"
complete -c kiste -n "__fish_kiste_using_subcommand attach" -l detach-keys -d 'Key sequence that detaches (default ctrl-p,ctrl-q)' -r
complete -c kiste -n "__fish_kiste_using_subcommand attach" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand attach" -l no-stdin -d 'Do not attach stdin'
complete -c kiste -n "__fish_kiste_using_subcommand attach" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand attach" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "exec" -d 'Run a process in a running container'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "run" -d 'Run a command in a new container'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "create" -d 'Create a container without starting it'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "start" -d 'Start created or stopped containers'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "ps" -d 'List containers'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "logs" -d 'Show a container\'s output'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "stop" -d 'Stop containers (stop signal, then SIGKILL after the timeout)'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "kill" -d 'Send a signal to containers'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "rm" -d 'Remove containers'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "wait" -d 'Wait for containers to exit and print their exit codes'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "restart" -d 'Stop and start containers again'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "rename" -d 'Give a container a new name'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "top" -d 'Show the processes of a running container'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "port" -d 'Show a container\'s published ports (all, or where PORT[/PROTO] is published)'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "attach" -d 'Attach to a running container\'s input and output'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "list" -d 'List containers'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "exists" -d 'Check whether a container exists (exit 0) or not (exit 1)'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "inspect" -d 'Show a container\'s configuration and state (JSON, Podman\'s keys)'
complete -c kiste -n "__fish_kiste_using_subcommand container; and not __fish_seen_subcommand_from exec run create start ps logs stop kill rm wait restart rename top port attach list exists inspect prune" -f -a "prune" -d 'Remove all containers that are not running'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exec" -s e -l env -d 'Set environment variables' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exec" -s u -l user -d 'Run as USER[:GROUP]' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exec" -s w -l workdir -d 'Working directory' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exec" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exec" -s d -l detach -d 'Run in the background'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exec" -s i -l interactive -d 'Keep stdin open'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exec" -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exec" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exec" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l detach-keys -d 'Key sequence that detaches from a terminal (default ctrl-p,ctrl-q)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l name -d 'Assign a name to the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to copy it from this environment)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l env-file -d 'Read environment variables from a file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s w -l workdir -d 'Working directory inside the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s u -l user -d 'Run as USER[:GROUP] (names or numbers)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l entrypoint -d 'Override the image\'s entrypoint' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s h -l hostname -d 'Container host name' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l network -d 'Network: pasta (the default when installed), slirp4netns, none, host, container:NAME, or the name of a user-defined network (`kiste network create`)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l network-alias -d 'Another name for the container on its user-defined network' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l ip -d 'A fixed IPv4 address on the user-defined network' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s p -l publish -d 'Publish a port: [HOSTIP:][HOSTPORT:]PORT[/tcp|/udp], ranges as 8080-8081:80-81' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l expose -d 'Expose a port (or range) for -P: PORT[/PROTO]' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l dns -d 'DNS server for the container\'s /etc/resolv.conf (instead of the host\'s)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l dns-search -d 'DNS search domain' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l dns-option -d 'DNS resolver option' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l add-host -d 'Add NAME:IP to the container\'s /etc/hosts (IP may be host-gateway)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s l -l label -d 'Add a label KEY=VALUE' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l stop-signal -d 'Signal that stops the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l stop-timeout -d 'Seconds to wait before killing the container on stop' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l cap-add -d 'Add capabilities' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l cap-drop -d 'Drop capabilities' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l pull -d 'Pull policy: missing, always, newer, never' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l tls-verify -d 'Require HTTPS and verify certificates when pulling' -r -f -a "true\t''
false\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l group-add -d 'Add the process to more groups (names from the image\'s /etc/group, or numbers)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l annotation -d 'Add an annotation KEY=VALUE to the container\'s runtime spec' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l ulimit -d 'Resource limit NAME=SOFT[:HARD] (nofile, nproc, core, stack, ...; -1 for unlimited)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l tmpfs -d 'Mount a tmpfs at PATH[:OPTIONS]' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l shm-size -d 'Size of /dev/shm (e.g. 64m, 1g)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l security-opt -d 'Security options: no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l cidfile -d 'Write the container ID to this file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l userns -d 'User namespace: keep-id (your uid and gid keep their numbers inside), or host' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s d -l detach -d 'Run in the background and print the container ID'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l rm -d 'Remove the container when it exits'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l read-only -d 'Mount the root filesystem read-only'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s P -l publish-all -d 'Publish every exposed port (image EXPOSE and --expose) to a free host port'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l no-hosts -d 'Keep the image\'s /etc/hosts instead of kiste\'s'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l replace -d 'Replace an existing container of the same name'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l privileged -d 'Give the container all capabilities (as rootless Podman means it)'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s i -l interactive -d 'Keep stdin open (accepted; stdin is passed to attached containers)'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s t -l tty -d 'Allocate a pseudo-terminal for the container'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -l init -d 'Run a tiny init as PID 1 that forwards signals and reaps zombies'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l name -d 'Assign a name to the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to copy it from this environment)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l env-file -d 'Read environment variables from a file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s w -l workdir -d 'Working directory inside the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s u -l user -d 'Run as USER[:GROUP] (names or numbers)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l entrypoint -d 'Override the image\'s entrypoint' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s h -l hostname -d 'Container host name' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l network -d 'Network: pasta (the default when installed), slirp4netns, none, host, container:NAME, or the name of a user-defined network (`kiste network create`)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l network-alias -d 'Another name for the container on its user-defined network' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l ip -d 'A fixed IPv4 address on the user-defined network' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s p -l publish -d 'Publish a port: [HOSTIP:][HOSTPORT:]PORT[/tcp|/udp], ranges as 8080-8081:80-81' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l expose -d 'Expose a port (or range) for -P: PORT[/PROTO]' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l dns -d 'DNS server for the container\'s /etc/resolv.conf (instead of the host\'s)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l dns-search -d 'DNS search domain' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l dns-option -d 'DNS resolver option' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l add-host -d 'Add NAME:IP to the container\'s /etc/hosts (IP may be host-gateway)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s l -l label -d 'Add a label KEY=VALUE' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l stop-signal -d 'Signal that stops the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l stop-timeout -d 'Seconds to wait before killing the container on stop' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l cap-add -d 'Add capabilities' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l cap-drop -d 'Drop capabilities' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l pull -d 'Pull policy: missing, always, newer, never' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l tls-verify -d 'Require HTTPS and verify certificates when pulling' -r -f -a "true\t''
false\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l group-add -d 'Add the process to more groups (names from the image\'s /etc/group, or numbers)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l annotation -d 'Add an annotation KEY=VALUE to the container\'s runtime spec' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l ulimit -d 'Resource limit NAME=SOFT[:HARD] (nofile, nproc, core, stack, ...; -1 for unlimited)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l tmpfs -d 'Mount a tmpfs at PATH[:OPTIONS]' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l shm-size -d 'Size of /dev/shm (e.g. 64m, 1g)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l security-opt -d 'Security options: no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l cidfile -d 'Write the container ID to this file' -r -F
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l userns -d 'User namespace: keep-id (your uid and gid keep their numbers inside), or host' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l rm -d 'Remove the container when it exits'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l read-only -d 'Mount the root filesystem read-only'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s P -l publish-all -d 'Publish every exposed port (image EXPOSE and --expose) to a free host port'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l no-hosts -d 'Keep the image\'s /etc/hosts instead of kiste\'s'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l replace -d 'Replace an existing container of the same name'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l privileged -d 'Give the container all capabilities (as rootless Podman means it)'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s i -l interactive -d 'Keep stdin open (accepted; stdin is passed to attached containers)'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s t -l tty -d 'Allocate a pseudo-terminal for the container'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -l init -d 'Run a tiny init as PID 1 that forwards signals and reaps zombies'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from start" -l detach-keys -d 'Key sequence that detaches from a terminal (default ctrl-p,ctrl-q)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from start" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from start" -s a -l attach -d 'Attach to the container\'s output and return its exit code'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from start" -s i -l interactive -d 'Accepted for Podman\'s sake: stdin is attached when the container was created with -i'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from ps" -s n -l last -d 'Show the last N containers' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from ps" -s f -l filter -d 'Filter: name=, status=, label=, ancestor=, id=' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from ps" -l format -d 'Output format: json, or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from ps" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from ps" -s a -l all -d 'Show all containers, not only running ones'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from ps" -s q -l quiet -d 'Show only container IDs'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from ps" -s l -l latest -d 'Show the latest container'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from ps" -l no-trunc -d 'Do not truncate IDs and commands'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from ps" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from ps" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from logs" -l tail -d 'Show only the last N lines' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from logs" -l since -d 'Show lines written since a time, Unix seconds, or a duration before now (10m)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from logs" -l until -d 'Show lines written until a time, Unix seconds, or a duration before now' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from logs" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from logs" -s f -l follow -d 'Keep following the output'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from logs" -s t -l timestamps -d 'Show the time of each line'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from logs" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from stop" -s t -l time -d 'Seconds to wait before killing the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from stop" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from kill" -s s -l signal -d 'Signal to send' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from kill" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from kill" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from kill" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from rm" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from rm" -s f -l force -d 'Stop running containers first'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from rm" -s a -l all -d 'Remove all containers'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from rm" -s v -l volumes -d 'Remove anonymous volumes (none exist yet)'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from wait" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from wait" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from wait" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from restart" -s t -l time -d 'Seconds to wait before killing the container' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from restart" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from restart" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from rename" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from rename" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from rename" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from top" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from top" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from top" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from port" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from port" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from port" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from attach" -l sig-proxy -d 'Forward received signals to the container (non-terminal containers)' -r -f -a "true\t''
false\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from attach" -l detach-keys -d 'Key sequence that detaches (default ctrl-p,ctrl-q)' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from attach" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from attach" -l no-stdin -d 'Do not attach stdin'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from attach" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from attach" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from list" -s n -l last -d 'Show the last N containers' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from list" -s f -l filter -d 'Filter: name=, status=, label=, ancestor=, id=' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from list" -l format -d 'Output format: json, or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from list" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from list" -s a -l all -d 'Show all containers, not only running ones'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Show only container IDs'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from list" -s l -l latest -d 'Show the latest container'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from list" -l no-trunc -d 'Do not truncate IDs and commands'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exists" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exists" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from exists" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from inspect" -s f -l format -d 'Output format: json (default) or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from inspect" -s t -l type -d 'What to inspect: container, image or all' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from inspect" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from prune" -l filter -d 'Only some containers: until=TIME (10m, Unix seconds, 2006-01-02), label=KEY[=VALUE], label!=KEY[=VALUE]' -r
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from prune" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not ask for confirmation'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand container; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
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
complete -c kiste -n "__fish_kiste_using_subcommand inspect" -s t -l type -d 'What to inspect: container, image or all' -r
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
complete -c kiste -n "__fish_kiste_using_subcommand image; and __fish_seen_subcommand_from inspect" -s t -l type -d 'What to inspect: container, image or all' -r
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
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -f -a "create" -d 'Create a network'
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -f -a "ls" -d 'List networks'
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -f -a "inspect" -d 'Show networks\' configuration (JSON)'
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -f -a "rm" -d 'Remove networks'
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -f -a "prune" -d 'Remove networks no container uses'
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -f -a "exists" -d 'Exit 0 when the network exists, 1 when it does not'
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -f -a "connect" -d 'Connect a container to a network'
complete -c kiste -n "__fish_kiste_using_subcommand network; and not __fish_seen_subcommand_from create ls inspect rm prune exists connect disconnect" -f -a "disconnect" -d 'Disconnect a container from a network'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from create" -l subnet -d 'Subnet in CIDR form, e.g. 10.89.5.0/24' -r
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from create" -l gateway -d 'Gateway address (the subnet\'s first address by default)' -r
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from create" -l label -d 'Label KEY=VALUE' -r
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from create" -s d -l driver -d 'Driver: only bridge' -r
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from create" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from create" -l internal -d 'No way out: containers reach only each other'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from create" -l ignore -d 'Succeed when the network exists already'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from ls" -l format -d 'json, or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from ls" -s f -l filter -d 'name=, id=, label=, driver=' -r
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from ls" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only IDs'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from ls" -l no-trunc -d 'Full IDs'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from inspect" -s f -l format -d 'Go template or json' -r
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from inspect" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from rm" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from rm" -s f -l force -d 'Remove the containers using them too'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from prune" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not ask for confirmation'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from exists" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from exists" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from exists" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from connect" -l alias -d 'Another name for the container on this network' -r
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from connect" -l ip -d 'A fixed IPv4 address on this network' -r
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from connect" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from connect" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from connect" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from disconnect" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from disconnect" -s f -l force -d 'Accepted for compatibility'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from disconnect" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand network; and __fish_seen_subcommand_from disconnect" -s V -l version -d 'Print version'
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
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info df prune reset" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info df prune reset" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info df prune reset" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info df prune reset" -f -a "info" -d 'Show information about the host and the store'
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info df prune reset" -f -a "df" -d 'Show disk usage of images, containers and volumes'
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info df prune reset" -f -a "prune" -d 'Remove stopped containers, dangling (with -a: unused) images and unused layers'
complete -c kiste -n "__fish_kiste_using_subcommand system; and not __fish_seen_subcommand_from info df prune reset" -f -a "reset" -d 'Remove all containers, images, layers and state: back to an empty store'
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
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from df" -l format -d 'Output format: json or a Go template' -r
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from df" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from df" -s v -l verbose -d 'Show every image and container'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from df" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from df" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from prune" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from prune" -s a -l all -d 'Remove all unused images, not just dangling ones'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not ask for confirmation'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from reset" -l log-level -d 'Log messages at and above this level: trace, debug, info, warn, error' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''
fatal\t''
panic\t''"
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from reset" -s f -l force -d 'Do not ask for confirmation'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from reset" -s h -l help -d 'Print help'
complete -c kiste -n "__fish_kiste_using_subcommand system; and __fish_seen_subcommand_from reset" -s V -l version -d 'Print version'
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
