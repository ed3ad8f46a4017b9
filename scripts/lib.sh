# shellcheck shell=bash
# Helpers shared by scripts/test and scripts/dev. Source it, do not run it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It sets REPO_ROOT and defines:
#   header TEXT            print a step header
#   info / warn / die      messages on stderr (die exits 1)
#   apt_ensure CMD:PKG...  install the Debian package PKG when command CMD is missing
#                          (runs `apt-get update` once, only when something must be installed)
#   ensure_mariadb         MariaDB reachable on 127.0.0.1:3306 (root, empty password), starting it if needed
#   ensure_redis           Redis reachable on 127.0.0.1:6379, starting it if needed
#   ensure_services        both
#   free_port / wait_http  a free local port; wait until a URL answers
#   drop_test_state DB PREFIX, print_log_tails DIR   clean-up and diagnostics of test scripts
#   sweep_test_state       drop whatever the Rust tests left: `paloma_test_*` databases, `test-*` keys
#   npm_ci DIR             `npm ci` in DIR (the lock file as committed), unless already installed from it
#   redact_url URL         URL with its password replaced by *** (for printing SMTP_URL and the like)
#   new_api_token          a new API token (for BOOTSTRAP_API_KEY); is_api_token TEXT: well-formed?
#
# Set PALOMA_SKIP_SERVICES=1 to skip the service checks (e.g. DATABASE_URL/REDIS_URL point elsewhere).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
    _C_BOLD=$'\033[1m' _C_RED=$'\033[31m' _C_YEL=$'\033[33m' _C_OFF=$'\033[0m'
else
    _C_BOLD='' _C_RED='' _C_YEL='' _C_OFF=''
fi

header() { printf '\n%s==> %s%s\n' "$_C_BOLD" "$*" "$_C_OFF"; }
info() { printf '    %s\n' "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_C_YEL" "$_C_OFF" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$_C_RED" "$_C_OFF" "$*" >&2; exit 1; }

# Run a command as root (directly, or through sudo when we are not root).
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $*"
    fi
}

_APT_UPDATED=0
# apt_ensure CMD:PKG [CMD:PKG ...]: install PKG for every CMD that is not on PATH.
# CMD may be an absolute path (checked with -x).
# check_disk DIR MIN_GB: fails early, with the reason, when DIR's file system has less than
# MIN_GB free (a full disk otherwise shows up as a compiler's "No space left on device" halfway
# through the run).
check_disk() {
    local dir="$1" min_gb="$2" free_kb
    free_kb=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
    info "free disk at $dir: $((free_kb / 1024 / 1024)) GiB (needs $min_gb)"
    if ((free_kb < min_gb * 1024 * 1024)); then
        die "only $((free_kb / 1024)) MiB free at $dir; the build and tests need about $min_gb GiB (free space, e.g. old target/ directories)"
    fi
}

apt_ensure() {
    local spec cmd pkg missing=()
    for spec in "$@"; do
        cmd="${spec%%:*}" pkg="${spec#*:}"
        if [[ "$cmd" == /* ]]; then
            [[ -x "$cmd" ]] && continue
        else
            command -v "$cmd" >/dev/null 2>&1 && continue
        fi
        missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get to install them"
    info "installing Debian packages: ${missing[*]}"
    if ((!_APT_UPDATED)); then
        as_root apt-get update -qq || die "apt-get update failed"
        _APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        || die "apt-get install ${missing[*]} failed"
}

# wait_until SECONDS CMD...: retry CMD every second until it succeeds or time runs out.
wait_until() {
    local timeout="$1" i
    shift
    for ((i = 0; i < timeout; i++)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 1
    done
    return 1
}

_mariadb_tcp_ok() { mariadb -uroot -h127.0.0.1 -P3306 --protocol=tcp -e 'select 1'; }
_mariadb_ok() { mariadb -uroot -e 'select 1'; }

ensure_mariadb() {
    [[ "${PALOMA_SKIP_SERVICES:-0}" == 1 ]] && return 0
    local installed_now=0
    if ! command -v mariadb >/dev/null 2>&1 || [[ ! -x /usr/sbin/mariadbd ]]; then
        [[ -x /usr/sbin/mariadbd ]] || installed_now=1
        apt_ensure mariadb:mariadb-client /usr/sbin/mariadbd:mariadb-server
    fi
    if _mariadb_tcp_ok >/dev/null 2>&1; then
        info "MariaDB is up on 127.0.0.1:3306"
        return 0
    fi
    if ! _mariadb_ok >/dev/null 2>&1; then
        info "MariaDB is not reachable: starting it"
        as_root install -d -o mysql -g mysql /run/mysqld 2>/dev/null || true
        as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
        wait_until 60 _mariadb_ok || die "MariaDB did not answer \`mariadb -uroot -e 'select 1'\` within 60 s"
    fi
    if ! wait_until 10 _mariadb_tcp_ok; then
        if ((installed_now)) || [[ "${CI:-}" == true ]]; then
            # A fresh Debian install lets root in only through the unix socket: allow the
            # empty-password TCP login the tests and DATABASE_URL's default expect
            # (only on a server this script installed, or on CI).
            info "allowing root with an empty password over TCP"
            # (skip-name-resolve may be on: then a TCP login from 127.0.0.1 needs root@127.0.0.1.)
            mariadb -uroot -e "
                CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
                GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
                ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
                FLUSH PRIVILEGES;" \
                || die "could not set up root TCP access on MariaDB"
            wait_until 10 _mariadb_tcp_ok && { info "MariaDB is up on 127.0.0.1:3306"; return 0; }
        fi
        die "MariaDB answers on its socket but not as root (empty password) on 127.0.0.1:3306"
    fi
    info "MariaDB is up on 127.0.0.1:3306"
}

_redis_ok() { [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == PONG ]]; }

ensure_redis() {
    [[ "${PALOMA_SKIP_SERVICES:-0}" == 1 ]] && return 0
    apt_ensure redis-server:redis-server redis-cli:redis-tools
    if _redis_ok; then
        info "Redis is up on 127.0.0.1:6379"
        return 0
    fi
    info "Redis is not reachable: starting it"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_until 30 _redis_ok || die "Redis did not answer \`redis-cli ping\` within 30 s (see /var/log/redis/ci.log)"
    info "Redis is up on 127.0.0.1:6379"
}

ensure_services() {
    ensure_mariadb
    ensure_redis
}

# free_port: print a TCP port on 127.0.0.1 that is free right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http SECONDS URL PID: wait until URL answers 2xx, failing early when process PID exits.
wait_http() {
    local timeout="$1" url="$2" pid="$3" i
    for ((i = 0; i < timeout * 2; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        sleep 0.5
    done
    return 1
}

# drop_test_state DB PREFIX: remove a test run's database and its Redis keys (best effort).
drop_test_state() {
    local db="$1" prefix="$2"
    mariadb -uroot -h127.0.0.1 -P3306 --protocol=tcp -e "DROP DATABASE IF EXISTS \`$db\`" 2>/dev/null || true
    redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$prefix:*" 2>/dev/null \
        | xargs -r redis-cli -h 127.0.0.1 -p 6379 del >/dev/null 2>&1 || true
}

# sweep_test_state: drop every database and Redis key the Rust tests create (databases
# `paloma_test_*`, keys `test-*`) that is still there: a test killed half-way cannot clean up
# after itself. Best effort; run it only when no test is running against these servers.
sweep_test_state() {
    local dbs db keys=0
    dbs="$(mariadb -uroot -h127.0.0.1 -P3306 --protocol=tcp -N -B \
        -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'paloma\\_test\\_%'" \
        2>/dev/null)" || dbs=""
    for db in $dbs; do
        mariadb -uroot -h127.0.0.1 -P3306 --protocol=tcp -e "DROP DATABASE IF EXISTS \`$db\`" 2>/dev/null || true
    done
    if command -v redis-cli >/dev/null 2>&1; then
        keys="$(redis-cli -h 127.0.0.1 -p 6379 --scan --pattern 'test-*' 2>/dev/null | wc -l)" || keys=0
        redis-cli -h 127.0.0.1 -p 6379 --scan --pattern 'test-*' 2>/dev/null \
            | xargs -r -n 500 redis-cli -h 127.0.0.1 -p 6379 del >/dev/null 2>&1 || true
    fi
    info "removed $(wc -w <<<"$dbs") test database(s) and $keys test Redis key(s) left behind"
}

# npm_ci DIR: install DIR's packages exactly as its package-lock.json says (`npm ci` never
# rewrites the lock file, unlike `npm install`); skipped when DIR/node_modules was installed
# from this very lock file and package.json.
npm_ci() {
    local dir="$1" marker="$1/node_modules/.package-lock.json"
    if [[ -f "$marker" && "$marker" -nt "$dir/package-lock.json" && "$marker" -nt "$dir/package.json" ]]; then
        info "$dir/node_modules is up to date with $dir/package-lock.json"
        return 0
    fi
    npm --prefix "$dir" ci --no-audit --no-fund
}

# redact_url URL: print URL with the password of its user info replaced by `***`
# (smtp://bob:s3cret@mail.example.org:2525 -> smtp://bob:***@mail.example.org:2525), like the
# binaries do in their messages. The user info ends at the URL's last `@`, so that a password
# holding a raw `/`, `?` or `#` is masked whole too; text without `scheme://` may itself be a
# password and prints as `(not a URL)`.
redact_url() {
    local url="$1" scheme rest userinfo
    if [[ "$url" != *://* ]]; then
        printf '(not a URL)\n'
        return 0
    fi
    scheme="${url%%://*}" rest="${url#*://}"
    userinfo="${rest%@*}"
    if [[ "$rest" != *@* || "$userinfo" != *:* ]]; then
        printf '%s\n' "$url"
        return 0
    fi
    printf '%s://%s:***@%s\n' "$scheme" "${userinfo%%:*}" "${rest##*@}"
}

# new_api_token: print a new API token, `pal_` and 43 letters and digits drawn from a
# cryptographically secure generator (Python's `secrets`), the format paloma-api accepts in
# BOOTSTRAP_API_KEY and in `Authorization: Bearer`.
new_api_token() {
    python3 -c 'import secrets, string
alphabet = string.ascii_letters + string.digits
print("pal_" + "".join(secrets.choice(alphabet) for _ in range(43)))'
}

# is_api_token TEXT: whether TEXT is a well-formed API token (`pal_` and 43 ASCII letters and
# digits; the letters spelled out, so that no locale widens the set).
is_api_token() {
    local secret="${1#pal_}"
    [[ "$1" == pal_* && ${#secret} -eq 43 \
        && "$secret" != *[!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789]* ]]
}

# print_log_tails DIR: the last lines of every *.log in DIR, for a failed run.
print_log_tails() {
    local log
    for log in "$1"/*.log; do
        [[ -f "$log" ]] || continue
        header "last lines of $log"
        tail -n 40 "$log" >&2 || true
    done
}
