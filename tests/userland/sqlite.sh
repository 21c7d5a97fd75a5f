# The sqlite3 shell on databases in the working directory: schema, inserts
# in a transaction, joins, aggregates, a CTE, triggers, views, .dump and
# .read round trip, WAL mode with a second connection, CSV import/export,
# integrity checks, VACUUM and a constraint error.
set -u
sqlite3 shop.db <<'SQL'
pragma foreign_keys = on;
create table customer (id integer primary key, name text not null unique, city text);
create table item (id integer primary key, customer_id integer references customer(id), what text, price real, qty integer default 1);
create index item_customer on item(customer_id);
create view totals as select c.name, count(i.id) as n, round(sum(i.price * i.qty), 2) as total from customer c left join item i on i.customer_id = c.id group by c.id;
create table audit (msg text);
create trigger item_added after insert on item begin insert into audit values ('added ' || new.what); end;
begin;
insert into customer (name, city) values ('ada', 'london'), ('brian', 'paris'), ('chen', 'beijing'), ('dana', 'paris');
insert into item (customer_id, what, price, qty) values (1, 'lamp', 19.99, 2), (1, 'desk', 120, 1), (2, 'pen', 1.5, 10), (3, 'chair', 45.25, 4);
commit;
with recursive n(x) as (values(1) union all select x + 1 from n where x < 500)
insert into item (customer_id, what, price) select 1 + x % 3, 'bulk' || x, x * 0.25 from n;
SQL
sqlite3 -header -column shop.db 'select * from totals order by name;'
sqlite3 shop.db 'select city, count(*) from customer group by city order by 2 desc, 1;' 'select count(*) from audit;' 'select msg from audit order by rowid limit 3;'
sqlite3 shop.db "insert into item (customer_id, what, price) values (99, 'ghost', 1);" 2>&1 || echo "status $?"
sqlite3 shop.db 'pragma foreign_keys = on; insert into item (customer_id, what, price) values (99, "ghost", 1);' 2>&1 || echo "fk status $?"
sqlite3 shop.db "insert into customer (name) values ('ada');" 2>&1 || echo "unique status $?"
sqlite3 shop.db .dump > dump.sql
wc -l < dump.sql; grep -c 'INSERT INTO' dump.sql
sqlite3 copy.db < dump.sql
sqlite3 copy.db 'select * from totals order by name;' | md5sum
sqlite3 shop.db 'select * from totals order by name;' | md5sum
sqlite3 -csv -header shop.db 'select id, what, price from item where id <= 4 order by id;' > items.csv; cat items.csv
sqlite3 imported.db '.mode csv' '.import items.csv t' 'select count(*), sum(price) from t;'
sqlite3 shop.db 'pragma journal_mode = wal;'
sqlite3 shop.db 'insert into customer (name, city) values ("erin", "oslo");' & wait
ls shop.db*
sqlite3 shop.db 'pragma wal_checkpoint(truncate);' 'select name from customer order by id desc limit 1;'
sqlite3 shop.db 'pragma integrity_check;' 'pragma page_size;' 'vacuum;' 'pragma journal_mode = delete;'
sqlite3 shop.db '.tables' '.schema customer' '.indexes item'
sqlite3 -line shop.db "select json_object('n', count(*), 'max', max(price)) as j from item;"
sqlite3 :memory: 'select sqlite_compileoption_used("THREADSAFE=1"), 1 + 1, printf("%05.1f", 3.14159), upper("x"), hex(zeroblob(3)), length(randomblob(16));'
sqlite3 shop.db 'select nosuchcolumn from customer;' 2>&1; echo "error status $?"
ls
