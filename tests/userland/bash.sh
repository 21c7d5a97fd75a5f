# bash features real scripts use: arrays, [[ ]], process substitution,
# coprocesses, wait -n, mapfile, here-strings, traps, job control basics.
set -u

# Indexed and associative arrays.
a=(one two "three four")
a+=(five)
echo "count ${#a[@]}: ${a[2]} | ${a[*]:1:2} | last ${a[-1]}"
unset 'a[1]'; echo "indices ${!a[@]}"
declare -A h=([apple]=red [banana]=yellow [cherry]=dark)
h[lime]=green
for k in $(printf '%s\n' "${!h[@]}" | sort); do echo "$k=${h[$k]}"; done
declare -p a
declare -i n=7*6; echo "integer $n"
s="Hello, World"; echo "${s,,} ${s^^} ${s/World/bash} ${#s} ${s:7}"

# [[ ]] with patterns, regexes and BASH_REMATCH.
for w in apple.tar.gz notes.txt 2024-01-31 x; do
    if [[ $w == *.tar.* ]]; then echo "$w: tarball"
    elif [[ $w =~ ^([0-9]{4})-([0-9]{2})-([0-9]{2})$ ]]; then echo "$w: date y=${BASH_REMATCH[1]} d=${BASH_REMATCH[3]}"
    elif [[ -n $w && ${#w} -gt 1 ]]; then echo "$w: word"
    else echo "$w: short"; fi
done
[[ 10 -lt 9 || abc < abd ]] && echo "string order"
shopt -s extglob nullglob
touch f1.c f2.c f3.h g.txt
echo +(f)[0-9].@(c|h)
echo !(*.c)
echo nothing*here "(nullglob)"

# Process substitution, both directions.
diff <(printf '%s\n' a b c) <(printf '%s\n' a x c); echo "diff status $?"
paste <(seq 3) <(seq 4 6) <(printf 'x\ny\nz\n')
echo "to a reader" > >(tr a-z A-Z > upper.txt)
wait $!
cat upper.txt
while read -r line; do echo "read: $line"; done < <(printf 'p\nq\n')

# Coprocesses.
coproc BC { while read -r x; do echo $((x * x)); done; }
bc_pid=$BC_PID
for i in 3 4 5; do echo "$i" >&"${BC[1]}"; read -r sq <&"${BC[0]}"; echo "square $i = $sq"; done
exec {BC[1]}>&-
wait "$bc_pid"; echo "coproc status $?"
coproc sort -r
# A copy of the output end: bash unsets COPROC (and closes its fds) as soon
# as it reaps sort, which may happen before mapfile runs.
exec {sort_out}<&"${COPROC[0]}"
printf 'm\nz\na\n' >&"${COPROC[1]}"
exec {COPROC[1]}>&-
mapfile -t sorted <&"$sort_out"
exec {sort_out}<&-
wait
echo "coproc sort: ${sorted[*]}"

# wait -n returns as jobs end, with each one's status. A job that ended
# before a plain `wait` stays for wait -n until `jobs` has reported it,
# and whether it had ended is a race: report everything first.
wait; jobs > /dev/null
( sleep 0.3; exit 3 ) &
( sleep 0.05; exit 5 ) &
wait -n; echo "first to end: $?"
wait -n; echo "second to end: $?"
wait -n; echo "none left: $?"
sleep 0.2 & p=$!
wait -n -p done_pid; st=$?
[[ $done_pid == "$p" ]] && echo "wait -n -p names the job, status $st"

# mapfile / readarray.
seq 10 10 100 > tens
mapfile -t -s 2 -n 4 arr < tens; echo "mapfile: ${arr[*]} (${#arr[@]})"
readarray -d , -t parts < <(printf x,y,z); echo "readarray -d: ${#parts[@]} ${parts[0]} ${parts[2]}"
mapfile -C 'echo callback' -c 3 cb < tens > /dev/null; echo "lines ${#cb[@]}"

# Here-strings, printf -v, arithmetic, brace expansion.
read -r x y <<< "left right"; echo "$y $x"
printf -v padded '%05d|%-6s|%x' 42 ab 255; echo "$padded"
echo $(( (1 << 20) + 2 ** 10 % 7 )) $(( 17 / 5 )) $(( -17 % 5 ))
echo {a..e} {1..10..3} {x,y}{1,2}
f() { local -n ref=$1; ref+=(added); }
list=(start); f list; echo "nameref: ${list[*]}"

# Traps and exit statuses.
trap 'echo "ERR trap at status $?"' ERR
false
trap - ERR
( trap 'echo subshell EXIT' EXIT; exit 4 ); echo "subshell status $?"
set -o pipefail; false | true; echo "pipefail: $?"; set +o pipefail
echo "PIPESTATUS:" $(true | false | (exit 3); echo "${PIPESTATUS[@]}")

# Job control basics in a non-interactive shell.
set -m
sleep 30 &
p=$!
jobs
kill %1
# Once the shell has noticed the death, %1 is gone (a race): wait by pid.
wait $p; echo "killed job status $?"
sleep 0.1 &
wait %%; echo "waited %%: $?"
(exit 6) & wait $!; echo "job status $?"
jobs; echo "no jobs left"
sleep 30 & disown; jobs; echo "disowned"; kill $! 
set +m
echo end
