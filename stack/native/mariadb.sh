#!/usr/bin/env bash
# MariaDB 10.11 (Debian 12's mariadb-server) as the MySQL of the native stack. Sourced by
# stack/stack.sh after stack/lib.sh. A private instance: its own datadir, unix socket under
# $STACK_HOME/mariadb/run, TCP on 127.0.0.1:$MYSQL_PORT. Its superusers (root and the operating-system
# user who runs the stack) log in only through that socket, as that operating-system user
# (unix_socket authentication): no account answers on TCP without a password (`stackctl migrate`
# also hardens data directories made before). The Debian system instance and /etc/mysql are never
# touched.

: "${MYSQL_PORT:=3306}"
MARIADB_DIR="$STACK_HOME/mariadb"
MARIADB_SOCKET="$MARIADB_DIR/run/mysqld.sock"
MARIADB_LOG="$STACK_HOME/logs/mariadb.log"

mariadb_bin() {  # mariadb_bin NAME: path of a MariaDB program (sbin is not on every PATH).
  local p
  for p in "$(command -v "$1" 2>/dev/null)" "/usr/sbin/$1" "/usr/bin/$1"; do
    [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

# mariadb_fetch: MariaDB comes from Debian packages, which stack.sh installs up front.
mariadb_fetch() {
  mariadb_bin mariadbd >/dev/null || die "mariadbd not found; install it: apt-get install mariadb-server mariadb-client"
  log "using $("$(mariadb_bin mariadbd)" --version 2>/dev/null | sed 's/^.*Ver //')"
}

# mariadb_wait PID SECONDS: until the server answers as its superuser over the socket (stackctl).
mariadb_wait() {
  MYSQL_ADMIN_DSN="$(id -un)@unix($MARIADB_SOCKET)/" await_ready mariadb "$MARIADB_LOG" "$1" "$2" mysql
}

mariadb_write_config() {
  mkdir -p "$MARIADB_DIR/data" "$MARIADB_DIR/run" "$MARIADB_DIR/tmp" "$STACK_HOME/logs"
  # Only this file is read (--defaults-file), so Debian's /etc/mysql settings stay out.
  cat > "$MARIADB_DIR/my.cnf" <<EOF
# Written by stack/native/mariadb.sh; regenerated on every start.
[mariadbd]
user                    = $(id -un)
datadir                 = $MARIADB_DIR/data
tmpdir                  = $MARIADB_DIR/tmp
socket                  = $MARIADB_SOCKET
pid-file                = $MARIADB_DIR/run/mysqld.pid
port                    = $MYSQL_PORT
bind-address            = 127.0.0.1
skip-name-resolve
character-set-server    = utf8mb4
collation-server        = utf8mb4_unicode_ci
default-time-zone       = '+00:00'
innodb-buffer-pool-size = 64M
innodb-log-file-size    = 32M
max-connections         = 200
performance-schema      = OFF

[client]
user   = root
socket = $MARIADB_SOCKET
EOF
}

mariadb_start() {
  local pid
  if pid=$(pid_of mariadb); then
    mariadb_wait "$pid" 60
    log "already running (127.0.0.1:$MYSQL_PORT)"; return 0
  fi
  require_port_free mariadb "$MYSQL_PORT" MYSQL_PORT
  mariadb_write_config
  if [ ! -d "$MARIADB_DIR/data/mysql" ]; then
    log "initialising the data directory $MARIADB_DIR/data"
    "$(mariadb_bin mariadb-install-db)" --defaults-file="$MARIADB_DIR/my.cnf" \
      --auth-root-authentication-method=socket --skip-test-db >>"$MARIADB_LOG" 2>&1 \
      || die "mariadb-install-db failed; see $MARIADB_LOG
$(tail -n 15 "$MARIADB_LOG")"
  fi
  log "starting on 127.0.0.1:$MYSQL_PORT (socket $MARIADB_SOCKET, log $MARIADB_LOG)"
  start_engine mariadb "$MARIADB_LOG" "$(mariadb_bin mariadbd)" --defaults-file="$MARIADB_DIR/my.cnf"
  mariadb_wait "$(cat "$STACK_HOME/run/mariadb.pid")" 60
  log "ready"
}

mariadb_stop() { stop_bg mariadb 60 "stopping"; }

mariadb_status() { proc_row mariadb "$MYSQL_PORT" "127.0.0.1:$MYSQL_PORT" "(socket $MARIADB_SOCKET)"; }
