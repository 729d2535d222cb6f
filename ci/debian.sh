# Sourced by the ci scripts. debian_install PKG...: installs Debian packages
# that a leg needs, as root with apt-get (updating the package lists only when
# the first attempt fails). It returns non-zero, saying why, when it cannot.
debian_install() {
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		echo "cannot install $*: not root with apt-get"
		return 1
	fi
	echo "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 && return 0
	apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 && return 0
	echo "apt-get could not install $*"
	return 1
}
