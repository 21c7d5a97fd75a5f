# perl: regexes, hashes, sprintf and pack, sorting, file I/O, fork and
# pipes, sockets, local time under TZ=UTC, and core modules.
set -eu
cat > work.pl <<'PL'
use strict;
use warnings;
use File::Temp qw(tempdir);
use File::Find;
use File::Path qw(make_path);
use List::Util qw(sum max first shuffle);
use POSIX qw(floor strftime);
use Digest::MD5 qw(md5_hex);
use Data::Dumper;
use Socket;
use IO::Handle;
$Data::Dumper::Sortkeys = 1;
$Data::Dumper::Indent = 1;

my $text = "The quick brown fox jumps over the lazy dog, 42 times in 2024.";
my @words = ($text =~ /\b([a-z]+)\b/gi);
print scalar(@words), " words; numbers: @{[ $text =~ /(\d+)/g ]}\n";
(my $t = $text) =~ s/(\w+)/\u\L$1/g; print "$t\n";
my %count; $count{lc $_}++ for split //, join '', @words;
print join(' ', map { "$_=$count{$_}" } (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0..4]), "\n";
printf "%-8s|%08.3f|%x|%o|%e|%s\n", "left", 3.14159, 255, 8, 12345.678, join ',', sort { $a <=> $b } (10, 9, 100, 1);
my $packed = pack 'NnC a4 Z*', 0xdeadbeef, 513, 7, 'abcd', 'zed';
print length($packed), " ", unpack('H*', $packed), " ", join(',', unpack 'NnC a4 Z*', $packed), "\n";
print md5_hex("vkernel"), " ", sum(1..100), " ", max(3, 9, 2), " ", first { $_ > 3 } (1, 5, 2, 8); print "\n";
print strftime("%Y-%m-%d %H:%M:%S %a", gmtime(1234567890)), " ", floor(-2.5), "\n";
print Dumper({ list => [1, 2], nested => { a => undef, b => 'x' } });

make_path("tree/a/b", "tree/c");
for my $f ("tree/a/one", "tree/a/b/two", "tree/c/three") { open my $fh, '>', $f or die; print $fh "$f\n" x 3; close $fh; }
my @found; find(sub { push @found, $File::Find::name if -f }, "tree");
print join(' ', sort @found), "\n";
open my $in, '<', 'tree/a/b/two' or die; my @lines = <$in>; close $in; print scalar(@lines), " lines, -s ", -s 'tree/a/b/two', "\n";
open my $ap, '>>', 'tree/a/one' or die; print $ap "appended\n"; close $ap;
print `tail -1 tree/a/one`;
rename 'tree/c/three', 'tree/three' or die; unlink 'tree/a/one'; rmdir 'tree/c' or die;
opendir my $d, 'tree' or die; print join(' ', sort grep { !/^\./ } readdir $d), "\n"; closedir $d;
my $dir = tempdir(CLEANUP => 1); open my $tf, '>', "$dir/x" or die; print $tf "tmp"; close $tf; print -e "$dir/x" ? "temp file\n" : "no temp\n";

pipe(my $r, my $w) or die;
my @kids;
for my $n (1 .. 4) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) { close $r; print $w "child $n: ", $n * $n, "\n"; close $w; exit $n; }
    push @kids, $pid;
}
close $w;
print sort <$r>;
my @st; for my $pid (@kids) { waitpid($pid, 0); push @st, $? >> 8; } print "statuses @st\n";
socketpair(my $s1, my $s2, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die; $s1->autoflush(1);
if (my $pid = fork) { close $s2; print $s1 "ping\n"; my $reply = <$s1>; print "socketpair: $reply"; waitpid $pid, 0; }
else { close $s1; my $m = <$s2>; print $s2 uc $m; exit 0; }
open my $ps, '-|', 'sh', '-c', 'echo from a pipe; exit 3' or die; print <$ps>; close $ps; print "pipe status ", $? >> 8, "\n";
local $SIG{ALRM} = sub { die "alarm\n" };
eval { alarm 1; select undef, undef, undef, 5; alarm 0; }; print "eval: $@";
$SIG{USR1} = sub { print "got USR1\n" }; kill 'USR1', $$; 
my @sorted = sort { $a->[1] <=> $b->[1] or $a->[0] cmp $b->[0] } map { [$_, length] } qw(pear fig banana kiwi apple);
print join(' ', map { $_->[0] } @sorted), "\n";
my $s = "a,b;c d"; print join('|', split /[,; ]/, $s), " ", scalar reverse("stressed"), " ", ucfirst(lc "HELLO"), "\n";
print "local \$_: ", join(',', grep { $_ % 3 == 0 } 1..20), "\n";
PL
perl work.pl
perl -e 'print "one-liner ", join("-", map { $_ * 2 } 1..5), "\n"'
seq 1 10 | perl -ne 'print if $. % 3 == 0'
printf 'a=1\nb=2\n' > kv; perl -pi -e 's/=/ => /' kv; cat kv
perl -MConfig -e 'print "config: $Config{osname} $Config{archname}\n"' | sed 's/x86_64-linux.*/x86_64-linux/'
perl -we 'my $x; print "undef warning next\n"; my $y = "$x";' 2>&1
perl -e 'exit 7' || echo "perl exit $?"
