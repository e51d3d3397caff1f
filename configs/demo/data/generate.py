#!/usr/bin/env python3
"""Regenerate the bundled demo exports in this folder (python3 stdlib only, deterministic).

    python3 generate.py             # write the files, then self-check them against EXPECTED
    python3 generate.py --manifest  # also print the identity clusters as a Markdown table (for README.md)

All people, e-mail addresses (RFC 2606 example.* domains), phone numbers (Ofcom drama ranges,
US 555-01xx) and IPs (RFC 5737 documentation ranges) are made up. The Russian mobile numbers are random
and are not meant to belong to anyone.

The self-check normalises e-mails and phones with the simple rules described in README.md and links rows
that share a normalised e-mail or phone. It then asserts the counts in EXPECTED, so README.md stays true
when someone edits this script.
"""
import csv
import io
import os
import random
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240305
rng = random.Random(SEED)

# --------------------------------------------------------------------------- name pools
RU_MALE = [("Иван", "Ivan"), ("Алексей", "Alexey"), ("Дмитрий", "Dmitry"), ("Сергей", "Sergey"), ("Андрей", "Andrey"),
           ("Михаил", "Mikhail"), ("Николай", "Nikolay"), ("Павел", "Pavel"), ("Артём", "Artyom"), ("Максим", "Maxim"),
           ("Егор", "Egor"), ("Роман", "Roman"), ("Владимир", "Vladimir"), ("Кирилл", "Kirill"), ("Илья", "Ilya"),
           ("Олег", "Oleg"), ("Денис", "Denis"), ("Игорь", "Igor"), ("Антон", "Anton"), ("Григорий", "Grigory")]
RU_FEMALE = [("Ольга", "Olga"), ("Анна", "Anna"), ("Елена", "Elena"), ("Наталья", "Natalya"), ("Татьяна", "Tatiana"),
             ("Мария", "Maria"), ("Екатерина", "Ekaterina"), ("Ирина", "Irina"), ("Светлана", "Svetlana"), ("Юлия", "Yulia"),
             ("Дарья", "Darya"), ("Ксения", "Ksenia"), ("Алина", "Alina"), ("Полина", "Polina"), ("Вера", "Vera"),
             ("Людмила", "Lyudmila"), ("Марина", "Marina"), ("Галина", "Galina"), ("Софья", "Sofya"), ("Виктория", "Viktoria")]
RU_SURNAMES = [("Иванов", "Ivanov"), ("Смирнов", "Smirnov"), ("Кузнецов", "Kuznetsov"), ("Попов", "Popov"),
               ("Васильев", "Vasiliev"), ("Петров", "Petrov"), ("Соколов", "Sokolov"), ("Михайлов", "Mikhailov"),
               ("Новиков", "Novikov"), ("Фёдоров", "Fedorov"), ("Морозов", "Morozov"), ("Волков", "Volkov"),
               ("Алексеев", "Alekseev"), ("Лебедев", "Lebedev"), ("Семёнов", "Semenov"), ("Егоров", "Egorov"),
               ("Павлов", "Pavlov"), ("Козлов", "Kozlov"), ("Степанов", "Stepanov"), ("Николаев", "Nikolaev"),
               ("Орлов", "Orlov"), ("Андреев", "Andreev"), ("Макаров", "Makarov"), ("Никитин", "Nikitin"),
               ("Захаров", "Zakharov"), ("Зайцев", "Zaitsev"), ("Соловьёв", "Solovyov"), ("Борисов", "Borisov"),
               ("Яковлев", "Yakovlev"), ("Григорьев", "Grigoriev"), ("Романов", "Romanov"), ("Сергеев", "Sergeev"),
               ("Кузьмин", "Kuzmin"), ("Фролов", "Frolov"), ("Белов", "Belov"), ("Тихонов", "Tikhonov")]
PATRONYMICS = [("Иванович", "Ивановна"), ("Сергеевич", "Сергеевна"), ("Александрович", "Александровна"),
               ("Викторович", "Викторовна"), ("Петрович", "Петровна"), ("Николаевич", "Николаевна")]
EN_FIRST = ["James", "Oliver", "Emma", "Sophie", "Daniel", "Laura", "Thomas", "Hannah", "William", "Grace",
            "Jack", "Chloe", "Robert", "Megan", "David", "Rachel", "Paul", "Sarah", "Mark", "Lucy"]
EN_LAST = ["Smith", "Jones", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Johnson", "Roberts", "Walker",
           "Wright", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Lewis"]
DOMAINS = ["example.com", "example.org", "example.net"]
RU_MOBILE_CODES = ["903", "905", "906", "909", "910", "911", "915", "917", "918", "919", "925", "929",
                   "937", "950", "952", "960", "961", "964", "977", "985"]

USED_NAMES = set()
USED_EMAILS = set()
USED_PHONES = set()


class Person:
    def __init__(self, key, country, first_ru, last_ru, first_lat, last_lat, email, phone, female=False):
        self.key, self.country = key, country
        self.first_ru, self.last_ru, self.first_lat, self.last_lat = first_ru, last_ru, first_lat, last_lat
        self.email, self.phone, self.female = email, phone, female  # phone: E.164

    @property
    def cyr(self):
        return self.first_ru is not None


def reg(p):
    USED_NAMES.add((p.first_lat, p.last_lat))
    USED_EMAILS.add(p.email)
    USED_PHONES.add(p.phone)
    return p


def new_ru_phone():
    while True:
        n = "+7" + rng.choice(RU_MOBILE_CODES) + "%07d" % rng.randrange(10 ** 7)
        if n not in USED_PHONES:
            return n


def new_us_phone():
    while True:
        n = "+1" + rng.choice(["415", "212", "646", "310"]) + "5550" + "%03d" % rng.randrange(100, 200)
        if n not in USED_PHONES:
            return n


def new_gb_phone():
    while True:
        n = rng.choice(["+4420794600", "+4477009001"]) + "%02d" % rng.randrange(100)
        if n not in USED_PHONES:
            return n


def new_email(first_lat, last_lat):
    f, l = first_lat.lower(), last_lat.lower()
    for _ in range(100):
        local = rng.choice(["%s.%s" % (f, l), "%s%s" % (f, l), "%s.%s" % (f[0], l), "%s_%s" % (f, l),
                            "%s.%s%02d" % (f, l, rng.randrange(70, 100)), "%s.%s" % (l, f[0])])
        e = local + "@" + rng.choice(DOMAINS)
        if e not in USED_EMAILS:
            return e
    raise RuntimeError("no unique email")


def new_person(key, country):
    for _ in range(1000):
        female = rng.random() < 0.5
        if country == "RU":
            fr, fl = rng.choice(RU_FEMALE if female else RU_MALE)
            lr, ll = rng.choice(RU_SURNAMES)
            if female:
                lr, ll = lr + "а", ll + "a"
        else:
            fr, lr = None, None
            fl, ll = rng.choice(EN_FIRST), rng.choice(EN_LAST)
        if (fl, ll) in USED_NAMES:
            continue
        phone = {"RU": new_ru_phone, "US": new_us_phone, "GB": new_gb_phone}[country]()
        return reg(Person(key, country, fr, lr, fl, ll, new_email(fl, ll), phone, female))
    raise RuntimeError("no unique name")


# --------------------------------------------------------------------------- phone formatting
def fmt_phone(e164, style):
    """Render an E.164 number the way people type it. style picks one of the national/international forms."""
    if e164.startswith("+7"):
        n = e164[2:]
        a, b, c, d = n[:3], n[3:6], n[6:8], n[8:]
        forms = ["+7 %s %s-%s-%s" % (a, b, c, d), "8 (%s) %s-%s-%s" % (a, b, c, d), "8" + n, "+7" + n,
                 "+7(%s)%s" % (a, n[3:]), "8-%s-%s-%s-%s" % (a, b, c, d), "7 %s %s" % (a, n[3:]), n,
                 "+7 (%s) %s-%s-%s" % (a, b, c, d), "8 %s %s-%s-%s" % (a, b, c, d)]
    elif e164.startswith("+1"):
        n = e164[2:]
        forms = ["+1 (%s) %s-%s" % (n[:3], n[3:6], n[6:]), "(%s) %s-%s" % (n[:3], n[3:6], n[6:]),
                 "%s-%s-%s" % (n[:3], n[3:6], n[6:]), "+1" + n, "1-%s-%s-%s" % (n[:3], n[3:6], n[6:])]
    elif e164.startswith("+44"):
        n = e164[3:]
        if n.startswith("20"):
            forms = ["020 %s %s" % (n[2:6], n[6:]), "+44 20 %s %s" % (n[2:6], n[6:]), "+44" + n,
                     "(020) %s %s" % (n[2:6], n[6:])]
        else:
            forms = ["0%s %s" % (n[:4], n[4:]), "+44 %s %s" % (n[:4], n[4:]), "+44" + n, "0" + n]
    else:
        raise ValueError(e164)
    if style == "random":
        return rng.choice(forms)
    return forms[style % len(forms)]


def fmt_email(email, style):
    """style: clean | upper | title | space | space_title."""
    if style == "clean":
        return email
    local, dom = email.split("@")
    title = ".".join(p[:1].upper() + p[1:] for p in local.split(".")) + "@" + dom[:1].upper() + dom[1:]
    return {"upper": email.upper(), "title": title, "space": " " + email + " ",
            "space_title": " " + title, "trail": title + " "}[style]


def email_noise():
    r = rng.random()
    if r < 0.55:
        return "clean"
    return rng.choice(["upper", "title", "space", "space_title", "trail"])


# --------------------------------------------------------------------------- the shared people (identity clusters)
def P(key, country, fr, lr, fl, ll, email, phone, female=False):
    return reg(Person(key, country, fr, lr, fl, ll, email, phone, female))


C = {
    "C01": P("C01", "RU", "Иван", "Петров", "Ivan", "Petrov", "ivan.petrov@example.com", "+79123456789"),
    "C02": P("C02", "RU", "Ольга", "Смирнова", "Olga", "Smirnova", "olga.smirnova@example.org", "+79261234567", True),
    "C03": P("C03", "US", None, None, "John", "Carter", "john.carter@example.com", "+14155550134"),
    "C04": P("C04", "GB", None, None, "Emily", "Clarke", "emily.clarke@example.net", "+442079460958", True),
    "C05": P("C05", "RU", "Анна", "Кузнецова", "Anna", "Kuznetsova", "anna.kuznetsova@example.com", "+79031112233", True),
    "C06": P("C06", "RU", "Дмитрий", "Соколов", "Dmitry", "Sokolov", "d.sokolov@example.org", "+79165554433"),
    "C07": P("C07", "RU", "Елена", "Волкова", "Elena", "Volkova", "elena.volkova@example.com", "+79057778899", True),
    "C08": P("C08", "RU", "Сергей", "Морозов", "Sergey", "Morozov", "sergey.morozov@example.net", "+79214445566"),
    "C09": P("C09", "US", None, None, "Michael", "Brown", "michael.brown@example.com", "+12125550187"),
    "C10": P("C10", "RU", "Наталья", "Лебедева", "Natalia", "Lebedeva", "natalia.lebedeva@example.org", "+79998887766", True),
    "C11": P("C11", "RU", "Алексей", "Новиков", "Alexey", "Novikov", "alexey.novikov@example.com", "+79031234560"),
    "C12": P("C12", "RU", "Татьяна", "Козлова", "Tatiana", "Kozlova", "tatiana.kozlova@example.com", "+79217654321", True),
}
# Same name as C01, different person (different e-mail and phone): identity must NOT merge it with C01.
TRAP = reg(Person("T01", "RU", "Иван", "Петров", "Ivan", "Petrov", "i.petrov@example.org", "+79350001122"))
OFFICE_PHONE_C11 = "+74951234567"
USED_PHONES.add(OFFICE_PHONE_C11)

# --------------------------------------------------------------------------- time helpers
T0 = datetime(2024, 3, 1, 6, 0, 0)


def rand_time(days=45, start=T0, hours=(0, 24)):
    """A random moment in [start, start + days), between hours[0] and hours[1] o'clock on that day."""
    day = start.replace(hour=0, minute=0, second=0) + timedelta(days=rng.randrange(days))
    t = day + timedelta(seconds=rng.randrange(hours[0] * 3600, hours[1] * 3600))
    return t if t >= start else t + timedelta(days=1)


def call_time(days=45):
    return rand_time(days, hours=(9, 21))  # Moscow office hours


# --------------------------------------------------------------------------- CSV writing
def csv_text(header, rows, delimiter=",", quoting=csv.QUOTE_MINIMAL, lineterminator="\n"):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=lineterminator)
    w.writerow(header)
    for r in rows:
        assert len(r) == len(header), (r, header)
        w.writerow(r)
    return buf.getvalue()


def to_cp1251(text):
    """UTF-8 first, then iconv to WINDOWS-1251 (falls back to Python's cp1251 codec, which gives the same bytes)."""
    ref = text.encode("cp1251")  # also proves every character exists in Windows-1251
    if shutil.which("iconv"):
        out = subprocess.run(["iconv", "-f", "UTF-8", "-t", "WINDOWS-1251"], input=text.encode("utf-8"),
                             capture_output=True, check=True).stdout
        assert out == ref, "iconv and the cp1251 codec disagree"
        return out
    return ref


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


# =========================================================================== 1. meta_leads.csv
META_HEADER = ["id", "created_time", "ad_id", "ad_name", "adset_id", "adset_name", "campaign_id", "campaign_name",
               "form_id", "form_name", "is_organic", "platform", "full_name", "email", "phone_number"]
META_RU_FORM = ("f:731250000000001", "Заявка на интенсив (март 2024)")
META_EN_FORM = ("f:731250000000002", "Webinar registration (EN)")
# (campaign_id, campaign_name, adset_id, adset_name, ad_id, ad_name, lang)
META_ADS = [
    ("120208000000000101", "RU | Лиды | Весенний интенсив", "120208000000000201", "Москва и СПб, 25-45", "120208000000000301", "Видео 15с, весна", "ru"),
    ("120208000000000101", "RU | Лиды | Весенний интенсив", "120208000000000202", "Lookalike 1% покупатели", "120208000000000302", "Карусель, 3 карточки", "ru"),
    ("120208000000000102", "RU | Лиды | Ретаргетинг", "120208000000000203", "Посетители сайта 30 дней", "120208000000000303", "Статика — отзыв клиента", "ru"),
    ("120208000000000103", "EN | Leads | Webinar", "120208000000000204", "UK + US, interests", "120208000000000304", "Webinar video 30s", "en"),
    ("120208000000000103", "EN | Leads | Webinar", "120208000000000204", "UK + US, interests", "120208000000000305", "Image, speaker photo", "en"),
]


def meta_row(lead_no, when, person_lang, full_name, email, phone, organic=False):
    ads = [a for a in META_ADS if a[6] == person_lang]
    cid, cname, asid, asname, adid, adname, lang = rng.choice(ads)
    form = META_RU_FORM if lang == "ru" else META_EN_FORM
    if organic:
        ad = ["", "", "", "", "", ""]
    else:
        ad = ["ag:" + adid, adname, "as:" + asid, asname, "c:" + cid, cname]
    return [when, ["l:%d" % (1870000000000000 + lead_no * 7919), when.strftime("%Y-%m-%dT%H:%M:%S+0000")] + ad[:6]
            + [form[0], form[1], "1" if organic else "0", rng.choice(["fb", "fb", "fb", "ig", "ig"]),
               full_name, email, ("p:" + phone) if phone else ""]]


def build_meta():
    rows = []
    n = 0

    def add(person_lang, full_name, email, phone, organic=False, when=None):
        nonlocal n
        n += 1
        rows.append(meta_row(n, when or rand_time(), person_lang, full_name, email, phone, organic))

    # shared people
    add("ru", "Ivan Petrov", " Ivan.Petrov@Example.com ", "+7 912 345-67-89")
    t = rand_time(20)
    add("ru", "Ольга Смирнова", " olga.smirnova@example.org", "+79261234567", when=t)
    add("ru", "ольга смирнова", "Olga.Smirnova@Example.org", "8 926 123-45-67", when=t + timedelta(days=2, hours=3))
    add("en", "John Carter", "John.Carter@example.com", "+1 (415) 555-0134")
    add("en", "Emily Clarke", "emily.clarke@example.net", "+44 20 7946 0958")
    add("ru", "Елена Волкова", "Elena.Volkova@example.com ", "+79057778899")
    add("ru", "Sergei Morozov", "sergey.morozov@example.net", "+7 921 444-55-66")
    add("en", "Michael Brown", " MICHAEL.BROWN@EXAMPLE.COM", "+12125550187")
    add("ru", "Алексей Новиков", "alexey.novikov@example.com", "8 (903) 123-45-60")
    add("ru", "Tatiana Kozlova", "tatiana.kozlova@example.com", "89217654321")

    # fillers: 49 unique people; one of them submits the form twice
    fillers = [new_person("M%02d" % i, "RU" if i < 33 else rng.choice(["US", "GB"])) for i in range(49)]
    bad_email = {3: "ivan@@mail", 17: "no-email"}
    blank_email = {9, 28}
    bad_phone = {6: "12345", 22: "+7 912 34"}
    blank_phone = {12, 40}
    organic = {5, 19, 36}
    for i, p in enumerate(fillers):
        lang = "ru" if p.country == "RU" else "en"
        if p.cyr:
            name = rng.choice(["%s %s" % (p.first_ru, p.last_ru)] * 3 + ["%s %s" % (p.first_lat, p.last_lat),
                                                                           "%s  %s" % (p.first_ru, p.last_ru)])
        else:
            name = "%s %s" % (p.first_lat, p.last_lat)
        if i == 14:
            name = "%s, %s" % (p.last_lat, p.first_lat)  # comma inside a field -> quoted
        email = bad_email.get(i, "" if i in blank_email else fmt_email(p.email, email_noise()))
        # Meta pre-fills phones in international form; people who edit it type national forms
        if p.country == "RU":
            style = rng.choice([0, 0, 3, 3, 1, 2, 4, 9])
        else:  # foreign numbers always carry their country code, because the file's default region is RU
            style = {"US": [0, 3], "GB": [1, 2]}[p.country][rng.randrange(2)]
        phone = bad_phone.get(i, "" if i in blank_phone else fmt_phone(p.phone, style))
        add(lang, name, email, phone, organic=i in organic)
        if i == 25:  # same person submits again a day later, same e-mail different case, same phone
            add(lang, name, fmt_email(p.email, "upper"), fmt_phone(p.phone, 2),
                when=rows[-1][0] + timedelta(days=1, minutes=17))

    rows.sort(key=lambda r: r[0])
    return csv_text(META_HEADER, [r[1] for r in rows]).encode("utf-8")


# =========================================================================== 2. mailchimp_members.csv
MC_HEADER = ["Email Address", "First Name", "Last Name", "Address", "Phone Number", "MEMBER_RATING", "OPTIN_TIME",
             "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE", "CC",
             "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"]
GEO = {
    "RU": [("55.7558", "37.6173", "3", "3", "Europe/Moscow", "MOW"), ("59.9343", "30.3351", "3", "3", "Europe/Moscow", "SPE"),
           ("56.8389", "60.6057", "5", "5", "Asia/Yekaterinburg", "SVE")],
    "US": [("37.7749", "-122.4194", "-8", "-7", "America/Los_Angeles", "CA"), ("40.7128", "-74.0060", "-5", "-4", "America/New_York", "NY")],
    "GB": [("51.5074", "-0.1278", "0", "1", "Europe/London", "ENG")],
}
MC_TAGS = ["", "", "", '"Webinar"', '"Customer"', '"Webinar","Lead magnet"', '"Customer","VIP"', '"Интенсив"']


def mc_row(p, email, first, last, phone, cc="auto", tags=None, address=""):
    cc = p.country if cc == "auto" else cc
    optin = datetime(2023, 6, 1) + timedelta(seconds=rng.randrange(300 * 86400))
    confirmed = rng.random() < 0.7
    geo = rng.choice(GEO[cc]) if cc and rng.random() < 0.8 else ("", "", "", "", "", "")
    lat, lon = (("%.7f" % (float(geo[0]) + rng.uniform(-0.05, 0.05)), "%.7f" % (float(geo[1]) + rng.uniform(-0.05, 0.05)))
                if geo[0] else ("", ""))
    changed = optin + timedelta(seconds=rng.randrange(120 * 86400))
    return [optin, [email, first, last, address, phone, str(rng.choice([1, 2, 2, 2, 3, 3, 4, 5])),
                    optin.strftime("%Y-%m-%d %H:%M:%S"), "" if confirmed else "198.51.100.%d" % rng.randrange(1, 255),
                    (optin + timedelta(seconds=rng.randrange(30, 900))).strftime("%Y-%m-%d %H:%M:%S") if confirmed else "",
                    "203.0.113.%d" % rng.randrange(1, 255) if confirmed else "",
                    lat, lon, geo[2], geo[3], geo[4], cc if geo[0] else "", geo[5], changed.strftime("%Y-%m-%d %H:%M:%S"),
                    str(rng.randrange(100000000, 999999999)), "%010x" % rng.randrange(16 ** 10), "",
                    rng.choice(MC_TAGS) if tags is None else tags]]


def build_mailchimp():
    rows = []
    c = C
    rows.append(mc_row(c["C01"], "IVAN.PETROV@EXAMPLE.COM", "Ivan", "Petrov", "8 (912) 345-67-89", tags='"Интенсив"'))
    rows.append(mc_row(c["C03"], "John.Carter@Example.com", "John", "Carter", "(415) 555-0134",
                       address="500 Market St  San Francisco  CA  94105  US"))
    rows.append(mc_row(c["C04"], "Emily.Clarke@example.net", "Emily", "Clark", "020 7946 0958"))
    rows.append(mc_row(c["C05"], "Anna.Kuznetsova@example.com", "Anna", "Kuznetsova", ""))
    rows.append(mc_row(c["C07"], "elena.volkova@example.com", "Елена", "Волкова", ""))
    rows.append(mc_row(c["C09"], "Michael.Brown@example.com", "Mike", "Brown", "+1 212-555-0187"))
    rows.append(mc_row(c["C10"], "natalia.lebedeva@example.org", "Natalya", "Lebedeva", "+7 999 888-77-66"))
    # a national number only makes sense with the row's CC: force CC for rows that carry one
    for r in rows:
        if r[1][4] and not r[1][4].startswith("+") and not r[1][15]:
            p = [x for x in c.values() if x.email == r[1][0].strip().lower()][0]
            g = GEO[p.country][0]
            r[1][10:17] = [g[0], g[1], g[2], g[3], g[4], p.country, g[5]]

    fillers = [new_person("E%02d" % i, ["RU", "RU", "RU", "US", "GB"][i % 5]) for i in range(43)]
    bad_phone = {11: "12345"}
    for i, p in enumerate(fillers):
        first, last = (p.first_ru, p.last_ru) if p.cyr and rng.random() < 0.5 else (p.first_lat, p.last_lat)
        if i in (7, 30):
            first, last = first, ""  # only a first name given
        email = fmt_email(p.email, rng.choice(["clean", "clean", "clean", "title", "upper"]))
        phone = ""
        if i in bad_phone:
            phone = bad_phone[i]
        elif rng.random() < 0.45:
            style = {"RU": rng.choice([0, 1, 2, 3, 8]), "US": rng.choice([0, 1, 2]), "GB": rng.choice([0, 1, 3])}[p.country]
            phone = fmt_phone(p.phone, style)
        addr = ""
        if p.country == "GB" and rng.random() < 0.4:
            addr = "%d High Street  London  ENG  EC1A 1BB  GB" % rng.randrange(1, 200)
        row = mc_row(p, email, first, last, phone, address=addr)
        if phone and not phone.startswith("+") and not row[1][15]:
            g = GEO[p.country][0]
            row[1][10:17] = [g[0], g[1], g[2], g[3], g[4], p.country, g[5]]
        rows.append(row)
    rows.sort(key=lambda r: r[0])
    return b"\xef\xbb\xbf" + csv_text(MC_HEADER, [r[1] for r in rows], quoting=csv.QUOTE_ALL).encode("utf-8")


# =========================================================================== 3. calltouch_calls.csv
CT_HEADER = ["Дата", "Время", "Номер абонента", "Источник", "Канал", "Кампания", "Длительность", "Статус",
             "utm_source", "utm_medium", "utm_campaign", "ФИО", "Email", "Комментарий"]
CT_SOURCES = [  # (Источник, Канал, Кампания, utm_source, utm_medium, utm_campaign)
    ("yandex", "cpc", "Поиск | Интенсив | Москва", "yandex", "cpc", "intensiv_search_msk"),
    ("yandex", "cpc", "РСЯ | Ретаргетинг", "yandex", "cpc", "98765432"),
    ("google", "cpc", "Search | Brand", "google", "cpc", "brand_search"),
    ("vk", "cpc", "VK Реклама | Лиды", "vk", "cpc", "vk_leads_spring"),
    ("facebook", "cpc", "RU | Лиды | Весенний интенсив", "facebook", "paid_social", "120208000000000101"),
    ("yandex", "organic", "(not set)", "", "", ""),
    ("google", "organic", "(not set)", "", "", ""),
    ("(direct)", "(none)", "(not set)", "", "", ""),
    ("blog.example.com", "referral", "(not set)", "", "", ""),
]


def ct_row(when, phone, src, fio="", email="", comment="", status=None):
    status = status or rng.choice(["Успешный"] * 6 + ["Пропущенный", "Пропущенный", "Неуспешный"])
    dur = rng.randrange(35, 900) if status == "Успешный" else (0 if status == "Пропущенный" else rng.randrange(3, 25))
    s = CT_SOURCES[src] if isinstance(src, int) else rng.choice(CT_SOURCES)
    utm_src = s[3]
    if utm_src and rng.random() < 0.15:
        utm_src = utm_src.capitalize()  # "Yandex" vs "yandex"
    return [when, [when.strftime("%d.%m.%Y"), when.strftime("%H:%M:%S"), phone, s[0], s[1], s[2], str(dur), status,
                   utm_src, s[4], s[5], fio, email, comment]]


def build_calltouch():
    rows = []
    c = C
    t = call_time(30)
    rows.append(ct_row(t, "89123456789", 0, fio="Петров Иван"))
    rows.append(ct_row(t + timedelta(days=3, hours=2), "+7 912 345-67-89", 0, fio="Петров Иван",
                       comment="Повторный звонок; просит скидку", status="Успешный"))
    rows.append(ct_row(call_time(), "9261234567", 4, fio="Ольга"))
    rows.append(ct_row(call_time(), "8 (903) 111-22-33", 2, fio="Кузнецова Анна", email="ANNA.KUZNETSOVA@EXAMPLE.COM"))
    rows.append(ct_row(call_time(), "+7 916 555-44-33", 7, fio="Дмитрий"))
    rows.append(ct_row(call_time(), "7 921 4445566", 1, fio="Морозов Сергей", email="Sergey.Morozov@example.net"))
    rows.append(ct_row(call_time(), "+7(903)1234560", 3))
    rows.append(ct_row(call_time(), "8 921 765-43-21", 4, fio="Татьяна"))

    fillers = [new_person("K%02d" % i, "RU") for i in range(34)]
    repeat = {4: 2, 9: 3}  # filler index -> number of calls
    bad_phone = {13: "12345", 27: "0000"}
    blank_phone = {21}
    bad_email = {6: "test@"}
    comments = {2: "Перезвонить после 18:00; спросить про рассрочку",
                8: "Клиент просит счёт\nна юрлицо, реквизиты пришлёт на почту",
                15: 'Интересуется тарифом "Премиум"',
                19: "Спрашивал про сертификат"}
    for i, p in enumerate(fillers):
        fio = ""
        r = rng.random()
        if r < 0.25:
            fio = "%s %s" % (p.last_ru, p.first_ru)
        elif r < 0.4:
            fio = p.first_ru
        email = bad_email.get(i, fmt_email(p.email, email_noise()) if rng.random() < 0.2 else "")
        phone = bad_phone.get(i, "" if i in blank_phone else fmt_phone(p.phone, rng.choice([0, 1, 2, 2, 3, 3, 4, 6, 7])))
        t = call_time()
        for k in range(repeat.get(i, 1)):
            ph = phone if k == 0 else fmt_phone(p.phone, k + 1)
            rows.append(ct_row(t + timedelta(days=2 * k, hours=k), ph, "random", fio=fio, email=email if k == 0 else "",
                               comment=comments.get(i, "") if k == 0 else ""))
    rows.sort(key=lambda r: r[0])
    text = csv_text(CT_HEADER, [r[1] for r in rows], delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    return to_cp1251(text)


# =========================================================================== 4. amocrm_contacts.csv
AMO_HEADER = ["ID", "Имя", "Фамилия", "Полное имя", "Компания", "Рабочий телефон", "Мобильный телефон",
              "Рабочий email", "Личный email", "Ответственный", "Дата создания", "Теги"]
AMO_MANAGERS = ["Мария Иванова", "Алексей Смирнов", "Екатерина Орлова"]
AMO_COMPANIES = ["ООО «Ромашка»", 'АО "Вектор"', "ИП Сидоров А.В.", "ООО «Альфа Трейд»", "ООО «СтройМир»", "Школа №57"]
AMO_TAGS = ["", "", "", "Meta, вебинар", "звонок", "интенсив", "vip", "звонок, повторный", "Яндекс Директ"]


def amo_row(when, first, last, full, company="", work_phone="", mobile="", work_email="", personal_email="", tags=None):
    return [when, [None, first, last, full, company, work_phone, mobile, work_email, personal_email,
                   rng.choice(AMO_MANAGERS), when.strftime("%d.%m.%Y %H:%M:%S"),
                   rng.choice(AMO_TAGS) if tags is None else tags]]


def build_amocrm():
    rows = []
    c = C
    start = datetime(2023, 9, 1, 9, 0, 0)

    def t():
        return rand_time(220, start, hours=(9, 20))

    rows.append(amo_row(t(), "Иван", "Петров", "Петров Иван", mobile="8 (912) 345-67-89", personal_email="ivan.petrov@example.com"))
    rows.append(amo_row(t(), "", "", "Смирнова Ольга Викторовна", company="ООО «Ромашка»", work_phone="+7 (926) 123-45-67",
                        work_email="OLGA.SMIRNOVA@EXAMPLE.ORG "))
    rows.append(amo_row(t(), "Анна", "Кузнецова", "Анна Кузнецова", mobile="+7 903 111-22-33",
                        personal_email=" anna.kuznetsova@example.com"))
    t6 = t()
    rows.append(amo_row(t6, "Дмитрий", "Соколов", "Дмитрий Соколов", mobile="89165554433", personal_email="d.sokolov@example.org"))
    rows.append(amo_row(t6 + timedelta(days=12, hours=5), "Дима", "Соколов", "Дима Соколов", work_phone="8 (916) 555-44-33",
                        tags="звонок"))
    rows.append(amo_row(t(), "Елена", "Волкова", "Волкова Елена", mobile="8-905-777-88-99", work_email="elena.volkova@example.com"))
    rows.append(amo_row(t(), "Наталья", "Лебедева", "Наталья Лебедева", mobile="9998887766",
                        personal_email="Natalia.Lebedeva@example.org"))
    rows.append(amo_row(t(), "Алексей", "Новиков", "Алексей Новиков", company='АО "Вектор"', work_phone="+7 495 123-45-67",
                        mobile="+7 903 123-45-60", work_email="Alexey.Novikov@Example.com"))
    rows.append(amo_row(t(), "Иван", "Петров", "Иван Петров", mobile="+7 935 000-11-22", work_email="i.petrov@example.org",
                        company="ООО «СтройМир»"))

    fillers = [new_person("A%02d" % i, "RU") for i in range(46)]
    bad_email = {2: "no-email", 18: "@.example.", 33: "@mail"}  # 18: '@' typed as '.', 33: domain without TLD
    bad_phone = {9: "12345", 26: "тел. уточнить"}
    multi_phone = {40}
    no_channel = {44}
    full_only = {5, 23}
    for i, p in enumerate(fillers):
        first, last = p.first_ru, p.last_ru
        if rng.random() < 0.2:
            pat = rng.choice(PATRONYMICS)[1 if p.female else 0]
            full = "%s %s %s" % (last, first, pat)
        else:
            full = rng.choice(["%s %s" % (first, last), "%s %s" % (last, first)])
        if i in full_only:
            first, last = "", ""
        company = rng.choice(AMO_COMPANIES) if rng.random() < 0.3 else ""
        ph = fmt_phone(p.phone, rng.choice([0, 1, 2, 3, 5, 8, 9]))
        work_phone, mobile = ("", ph) if rng.random() < 0.7 else (ph, "")
        if i in bad_phone:
            work_phone, mobile = "", bad_phone[i]
        if i in multi_phone:
            extra = new_ru_phone()
            USED_PHONES.add(extra)
            mobile = "%s, %s" % (fmt_phone(p.phone, 0), fmt_phone(extra, 1))
            work_phone = ""
        em = fmt_email(p.email, email_noise())
        work_email, personal_email = (em, "") if company else ("", em)
        if rng.random() < 0.15:
            work_email, personal_email = "", ""
        if i in bad_email:
            v = bad_email[i]
            if v == "@.example.":
                v = p.email.replace("@", ".")
            elif v == "@mail":
                v = p.email.split("@")[0] + "@mail"
            work_email, personal_email = "", v
        if i in no_channel:
            work_phone = mobile = work_email = personal_email = ""
        rows.append(amo_row(t(), first, last, full, company, work_phone, mobile, work_email, personal_email))
    rows.sort(key=lambda r: r[0])
    for k, r in enumerate(rows):
        r[1][0] = str(31840000 + 17 * k + rng.randrange(0, 9))
    text = csv_text(AMO_HEADER, [r[1] for r in rows], delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    return to_cp1251(text)


# =========================================================================== 5. bad_rows.csv
def build_bad_rows():
    good, people = [], []  # 10 good rows plus 3 that get damaged
    for i in range(13):
        p = new_person("B%02d" % i, "RU" if i < 9 else "GB")
        lang = "ru" if p.country == "RU" else "en"
        name = "%s %s" % ((p.first_ru, p.last_ru) if p.cyr else (p.first_lat, p.last_lat))
        good.append(meta_row(900 + i, rand_time(), lang, name, p.email, p.phone)[1])
        people.append(p)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(META_HEADER)
    lines = [out.getvalue().encode("utf-8")]

    def line(fields):
        b = io.StringIO()
        csv.writer(b, lineterminator="\n").writerow(fields)
        return b.getvalue().encode("utf-8")

    g = iter(good)
    for _ in range(4):
        lines.append(line(next(g)))
    ragged = next(g)
    lines.append(line(ragged[:9]))  # data row 5: 9 of 15 columns
    for _ in range(3):
        lines.append(line(next(g)))
    broken, bp = next(g), people[8]
    # data row 9: unescaped quotes inside a quoted field, e.g. "Ольга "Olga" Петрова"; the quotes on the line
    # balance, so the damage stays on this line
    pre, post = line(broken[:12]).rstrip(b"\n"), line(broken[13:]).rstrip(b"\n")
    bad_name = '"%s "%s" %s"' % (bp.first_ru, bp.first_lat, bp.last_ru)
    lines.append(pre + b"," + bad_name.encode("utf-8") + b"," + post + b"\n")
    for _ in range(2):
        lines.append(line(next(g)))
    bad_utf8, up = next(g), people[11]
    # data row 12: the bytes FF FE (never valid in UTF-8) inside full_name after its first two letters, as
    # printf '\xff\xfe' would write them; the row is otherwise well formed
    pre, post = line(bad_utf8[:12]).rstrip(b"\n"), line(bad_utf8[13:]).rstrip(b"\n")
    name = ("%s %s" % (up.first_lat, up.last_lat)).encode("utf-8")
    lines.append(pre + b"," + name[:2] + b"\xff\xfe" + name[2:] + b"," + post + b"\n")
    lines.append(line(next(g)))
    return b"".join(lines)


# =========================================================================== self-check
EMAIL_RE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
E164_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")


def norm_email(v):
    v = v.strip().lower()
    return v if EMAIL_RE.match(v) else None


def norm_phone(v, region):
    """Minimal normaliser (the same rules README.md describes). Returns E.164 or None."""
    v = v.strip()
    if v.startswith("p:"):
        v = v[2:]
    digits = re.sub(r"\D", "", v)
    if v.startswith("+"):
        cand = "+" + digits
    elif region == "RU" and len(digits) == 11 and digits[0] in "78":
        cand = "+7" + digits[1:]
    elif region == "RU" and len(digits) == 10 and digits[0] == "9":
        cand = "+7" + digits
    elif region == "GB" and len(digits) in (10, 11) and digits[0] == "0":
        cand = "+44" + digits[1:]
    elif region == "US" and len(digits) == 10:
        cand = "+1" + digits
    elif region == "US" and len(digits) == 11 and digits[0] == "1":
        cand = "+" + digits
    else:
        return None
    return cand if E164_RE.match(cand) else None


def read_rows(name, encoding, delimiter):
    with open(os.path.join(HERE, name), "rb") as f:
        raw = f.read()
    text = raw.decode(encoding)
    return raw, list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


# file -> (encoding, delimiter, email columns, phone columns, default region or CSV column holding it)
FILES = {
    "meta_leads.csv": ("utf-8", ",", ["email"], ["phone_number"], "RU"),
    "mailchimp_members.csv": ("utf-8-sig", ",", ["Email Address"], ["Phone Number"], "@CC"),
    "calltouch_calls.csv": ("cp1251", ";", ["Email"], ["Номер абонента"], "RU"),
    "amocrm_contacts.csv": ("cp1251", ";", ["Рабочий email", "Личный email"], ["Рабочий телефон", "Мобильный телефон"], "RU"),
}

EXPECTED = {
    "meta_leads.csv": dict(rows=60, email_blank=2, email_invalid=2, email_untrimmed=18, email_not_lower=24,
                           phone_blank=2, phone_invalid=2, phone_not_e164=58, multi_phone_cells=0,
                           no_email_no_phone=0, organic=3, dup_groups=2, dup_extra_rows=2),
    "mailchimp_members.csv": dict(rows=50, email_blank=0, email_invalid=0, email_untrimmed=0,
                                  email_not_lower=24, phone_blank=23, phone_invalid=1, phone_not_e164=26,
                                  multi_phone_cells=0, no_email_no_phone=0, dup_groups=0, dup_extra_rows=0),
    "calltouch_calls.csv": dict(rows=45, email_blank=34, email_invalid=1, email_untrimmed=3, email_not_lower=6,
                                phone_blank=1, phone_invalid=2, phone_not_e164=39, multi_phone_cells=0,
                                no_email_no_phone=1, dup_groups=3, dup_extra_rows=4),
    "amocrm_contacts.csv": dict(rows=55, email_blank=7, email_invalid=3, email_untrimmed=15,
                                email_not_lower=20, phone_blank=1, phone_invalid=2, phone_not_e164=49,
                                multi_phone_cells=1, no_email_no_phone=1, dup_groups=1, dup_extra_rows=1),
}
EXPECTED_CROSS_FILE_CLUSTERS = 12


def split_multi(v):
    return [x.strip() for x in v.split(",")] if v.count("+") > 1 or re.search(r"\d,\s*[+8]", v) else [v]


def check(print_manifest=False):
    problems = []
    nodes = []  # (file, row_no, keys, row)
    notes = []  # (file, row_no, what, value) for the manifest
    for name, (enc, delim, ecols, pcols, region) in FILES.items():
        raw, rows = read_rows(name, enc, delim)
        st = dict(rows=len(rows), email_blank=0, email_invalid=0, email_untrimmed=0, email_not_lower=0,
                  phone_blank=0, phone_invalid=0, phone_not_e164=0, multi_phone_cells=0, no_email_no_phone=0)
        if name == "meta_leads.csv":
            st["organic"] = sum(1 for r in rows if r["is_organic"] == "1")
        for i, r in enumerate(rows, 1):
            keys = []
            evals = [r[c] for c in ecols if r[c].strip()]
            pvals = [r[c] for c in pcols if r[c].strip()]
            if not evals and not pvals:
                st["no_email_no_phone"] += 1
                notes.append((name, i, "no e-mail and no phone", ""))
            if not evals:
                st["email_blank"] += 1
            for v in evals:
                st["email_untrimmed"] += v != v.strip()
                st["email_not_lower"] += v.strip() != v.strip().lower()
                e = norm_email(v)
                if e:
                    keys.append("e:" + e)
                else:
                    st["email_invalid"] += 1
                    notes.append((name, i, "invalid e-mail", v))
            if not pvals:
                st["phone_blank"] += 1
            reg_ = r["CC"] if region == "@CC" else region
            for cell in pvals:
                parts = split_multi(cell)
                st["multi_phone_cells"] += len(parts) > 1
                if len(parts) > 1:
                    notes.append((name, i, "two phones in one cell", cell))
                for v in parts:
                    st["phone_not_e164"] += not E164_RE.match(v)
                    ph = norm_phone(v, reg_)
                    if ph:
                        keys.append("p:" + ph)
                    else:
                        st["phone_invalid"] += 1
                        notes.append((name, i, "invalid phone", v))
            nodes.append((name, i, keys, r))
        per_file_nodes = [n for n in nodes if n[0] == name]
        groups = components(per_file_nodes)
        dups = [g for g in groups if len(g) > 1]
        st["dup_groups"] = len(dups)
        st["dup_extra_rows"] = sum(len(g) - 1 for g in dups)
        exp = EXPECTED[name]
        for k in exp:
            if st.get(k) != exp[k]:
                problems.append("%s: %s = %s, expected %s" % (name, k, st.get(k), exp[k]))
        print("%-24s %s" % (name, " ".join("%s=%s" % kv for kv in st.items())))

    groups = components(nodes)
    cross = [g for g in groups if len({n[0] for n in g}) > 1]
    if len(cross) != EXPECTED_CROSS_FILE_CLUSTERS:
        problems.append("cross-file clusters = %d, expected %d" % (len(cross), EXPECTED_CROSS_FILE_CLUSTERS))
    print("cross-file identity clusters: %d" % len(cross))

    # bad_rows.csv structure
    with open(os.path.join(HERE, "bad_rows.csv"), "rb") as f:
        braw = f.read()
    lines = braw.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 15, len(lines)
    for no, ln in enumerate(lines[1:-1], 1):
        try:
            text = ln.decode("utf-8")
        except UnicodeDecodeError:
            assert no == 12, no
            continue
        fields = next(csv.reader([text], strict=True)) if no != 9 else None
        if no == 5:
            assert len(fields) == 9
        elif no == 9:
            try:
                next(csv.reader([text], strict=True))
                problems.append("bad_rows row 9 parses under strict quoting")
            except csv.Error:
                pass
        else:
            assert len(fields) == 15, (no, len(fields))
            assert norm_email(fields[13]) and norm_phone(fields[14], "RU"), fields

    if print_manifest:
        print()
        print("| cluster | meta_leads.csv | mailchimp_members.csv | calltouch_calls.csv | amocrm_contacts.csv | linked by |")
        print("|---|---|---|---|---|---|")
        cross.sort(key=lambda g: min((list(FILES).index(n[0]), n[1]) for n in g))
        for k, g in enumerate(cross, 1):
            cells = []
            for name in FILES:
                rs = sorted(n[1] for n in g if n[0] == name)
                cells.append(", ".join(map(str, rs)) if rs else "")
            keys = sorted({x for n in g for x in n[2]})
            print("| %d | %s | %s |" % (k, " | ".join(cells), ", ".join("`%s`" % x[2:] for x in keys)))
        print()
        for name in FILES:
            for g in components([n for n in nodes if n[0] == name]):
                if len(g) > 1:
                    print("within %s: rows %s" % (name, ", ".join(str(n[1]) for n in g)))
        print()
        for n in nodes:  # other rows worth naming
            r = n[3]
            if n[0] == "meta_leads.csv":
                if r["is_organic"] == "1":
                    notes.append((n[0], n[1], "organic lead, ad columns empty", ""))
                if "," in r["full_name"]:
                    notes.append((n[0], n[1], "comma inside full_name (quoted)", r["full_name"]))
            if n[0] == "calltouch_calls.csv" and r["Комментарий"]:
                notes.append((n[0], n[1], "comment", r["Комментарий"]))
            if n[0] == "amocrm_contacts.csv":
                if r["Полное имя"] and not r["Имя"]:
                    notes.append((n[0], n[1], "only Полное имя filled", r["Полное имя"]))
                if r["Полное имя"] in ("Иван Петров", "Петров Иван") and "e:i.petrov@example.org" in n[2]:
                    notes.append((n[0], n[1], "same name as cluster with ivan.petrov@example.com, different person", ""))
        for f, i, what, v in sorted(notes, key=lambda x: (list(FILES).index(x[0]), x[1])):
            print("%s row %d: %s %s" % (f, i, what, repr(v) if v else ""))
    if problems:
        print("SELF-CHECK FAILED:\n  " + "\n  ".join(problems))
        return False
    print("self-check ok")
    return True


def components(nodes):
    parent = list(range(len(nodes)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first = {}
    for idx, n in enumerate(nodes):
        for k in n[2]:
            if k in first:
                parent[find(idx)] = find(first[k])
            else:
                first[k] = idx
    out = {}
    for idx in range(len(nodes)):
        out.setdefault(find(idx), []).append(nodes[idx])
    return [sorted(g, key=lambda n: (n[0], n[1])) for g in out.values()]


def main():
    write("meta_leads.csv", build_meta())
    write("mailchimp_members.csv", build_mailchimp())
    write("calltouch_calls.csv", build_calltouch())
    write("amocrm_contacts.csv", build_amocrm())
    write("bad_rows.csv", build_bad_rows())
    ok = check(print_manifest="--manifest" in sys.argv)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
