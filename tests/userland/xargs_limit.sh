# Command lines near the kernel's limit: xargs packs as many arguments as
# execve takes (ARG_MAX is a quarter of the stack limit), find -exec {} +
# does the same, a glob expands to a long list, and an oversized list gets
# E2BIG ("Argument list too long").
set -u
seq 1 30000 | xargs echo | wc -l -w
seq 1 200000 | xargs echo | wc -l -w
xargs --show-limits < /dev/null 2>&1 | grep -E 'POSIX upper limit|Size of command buffer'
mkdir many; (cd many && seq -f 'file-with-a-long-name-%06g' 1 8000 | xargs touch)
find many -type f -exec echo {} + | wc -l -w
echo many/* | wc -c
/bin/echo many/* | wc -c
big=$(head -c 100000 /dev/zero | tr '\0' x)
/bin/echo "$big" | wc -c
huge=$(head -c 140000 /dev/zero | tr '\0' y)
/bin/true "$huge" 2> err; echo "one argument over MAX_ARG_STRLEN: $?"; sed 's/.*: //' err
/bin/true $(seq 1 700000) 2> err; echo "over ARG_MAX: $?"; sed 's/.*: //' err
