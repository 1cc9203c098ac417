# tunnel_lib.sh: the server host of tunnel_e2e.sh and tunnel_bench.sh,
# sourced after test/lib.sh (and test/faults_lib.sh) from the repository
# root.
#
#   tn_setup               namespaces (ns_setup), an sshd on $NS_S_IP:22
#                          in the server's one (root, a fresh key; the
#                          remote's cache in $T/rcache), $SSH for --ssh=,
#                          an iptables counter of UDP on its loopback;
#                          returns 1 (skip) or 2 (failure) as ns_setup
#   tn_block A|D           add or delete the rule dropping UDP that
#                          arrives on the server's veth
#   tn_lo_udp              datagrams counted on the server's loopback (the
#                          tunnel's, to the server)
#   tn_fe NAME ARGS...     ./mosh ARGS in the client's namespace, in tmux
#                          (80x24); its stderr goes to $T/NAME.fe
#   tn_path_pid NAME       the ssh of the path under NAME's pane, or ""

MOSH=$PWD/mosh

tn_setup()
{
	ns_setup
	tn_rc=$?
	[ $tn_rc -ne 0 ] && return $tn_rc
	mkdir -p "$T/rcache"
	SSHD_ADDR=$NS_S_IP SSHD_PORT_REQ=22 SSHD_WRAP="ip netns exec $NS_S" \
	    SSHD_CONF="SetEnv XDG_CACHE_HOME=$T/rcache MOSH_SERVER_NETWORK_TMOUT=30" \
	    sshd_start || return 2
	SSH="ssh -F /dev/null -i $T/ssh/user -o StrictHostKeyChecking=no"
	SSH="$SSH -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
	# The front end keeps its own cache apart as well.
	XDG_CACHE_HOME=$T/lcache
	export XDG_CACHE_HOME
	ip netns exec "$NS_S" iptables -A INPUT -i lo -p udp -j ACCEPT
	at_exit "ip netns exec $NS_S iptables -F INPUT 2>/dev/null"
}

tn_block()
{
	ip netns exec "$NS_S" iptables -$1 INPUT -i "$NS_S_IF" -p udp -j DROP
}

tn_lo_udp()
{
	ip netns exec "$NS_S" iptables -L INPUT -v -x -n |
	    awk '$6 == "lo" && ($4 == "udp" || $4 == "17") { print $1 }'
}

tn_fe()
{
	tn_n=$1
	shift
	tn_cmd="exec 2>'$T/$tn_n.fe'; ip netns exec '$NS_C' '$MOSH'"
	for tn_a in "$@"; do
		tn_cmd="$tn_cmd '$(printf '%s' "$tn_a" | sed "s/'/'\\\\''/g")'"
	done
	tmux_start "$tn_n" 80 24 "$tn_cmd"
}

tn_path_pid()
{
	pane_child "$1" 'args ~ /BatchMode=yes.*tunnel/'
}
