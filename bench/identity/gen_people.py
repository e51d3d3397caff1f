#!/usr/bin/env python3
"""Generate multi-channel marketing records of people, with ground truth, for identity-resolution evaluation.

Standard library only; deterministic for a given --seed. Each person gets 1-6 records from four channels
(an ad lead form, call tracking, an e-mail list, the CRM), each written the way that channel writes it:

  * names: Russian people in Cyrillic or in one of several Latin transliterations ("Юлия" / "Yuliya" / "Julia"),
    English people in Latin; nicknames and diminutives ("Sasha" for Aleksandr, "Bob" for Robert), typos;
  * phones in national formats ("+7 912 345-67-89", "89123456789", "8 (912) 345 67 89", "+44 20 7946 0958");
  * e-mails with random case, stray blanks and typos ("P.Ivanov@Mail.ru ", "p.ivnaov@mail.ru");
  * missing fields (each channel lacks some), a CRM id only on CRM records (one per person);
  * households: about 6% of people share a home phone with another person of the same surname and city;
  * a few records carry an office role address (info@, office@) shared by unrelated people;
  * personal addresses are unique per person (as providers enforce), like real mailboxes.

Columns: record_id,source,source_id,updated_at,first_name,last_name,email,phone,birth_date,city,crm_id,person_id
person_id is the ground truth; record_id is unique.

Usage: gen_people.py --people 20000 --seed 7 > people.csv
"""
import argparse
import csv
import random
import sys

RU_MALE = [("Александр", "Aleksandr", ["Alexander", "Sasha", "Alex"]), ("Дмитрий", "Dmitriy", ["Dmitry", "Dima"]),
           ("Сергей", "Sergey", ["Sergei"]), ("Алексей", "Aleksey", ["Alexey", "Alexei"]),
           ("Андрей", "Andrey", ["Andrei"]), ("Михаил", "Mikhail", ["Misha"]), ("Иван", "Ivan", ["Vanya"]),
           ("Пётр", "Pyotr", ["Petr"]), ("Николай", "Nikolay", ["Nikolai"]), ("Владимир", "Vladimir", ["Vova"]),
           ("Евгений", "Evgeniy", ["Yevgeny"]), ("Максим", "Maksim", ["Maxim"]), ("Павел", "Pavel", ["Pasha"]),
           ("Артём", "Artyom", ["Artem"]), ("Кирилл", "Kirill", []), ("Роман", "Roman", []), ("Олег", "Oleg", []),
           ("Игорь", "Igor", []), ("Юрий", "Yuriy", ["Yuri"]), ("Фёдор", "Fyodor", ["Fedor"]),
           ("Константин", "Konstantin", ["Kostya"]), ("Виктор", "Viktor", ["Victor"]), ("Григорий", "Grigoriy", ["Grisha"])]
RU_FEMALE = [("Анна", "Anna", ["Anya"]), ("Мария", "Mariya", ["Maria", "Masha"]), ("Елена", "Elena", ["Yelena", "Lena"]),
             ("Ольга", "Olga", ["Olya"]), ("Наталья", "Natalya", ["Natalia", "Natasha"]),
             ("Екатерина", "Ekaterina", ["Yekaterina", "Katya"]), ("Татьяна", "Tatyana", ["Tatiana", "Tanya"]),
             ("Юлия", "Yuliya", ["Julia", "Yulia"]), ("Ирина", "Irina", ["Ira"]), ("Светлана", "Svetlana", ["Sveta"]),
             ("Анастасия", "Anastasiya", ["Anastasia", "Nastya"]), ("Ксения", "Kseniya", ["Ksenia"]),
             ("Дарья", "Darya", ["Daria", "Dasha"]), ("Полина", "Polina", []), ("Вера", "Vera", []),
             ("Людмила", "Lyudmila", ["Ludmila"]), ("Галина", "Galina", []), ("Софья", "Sofya", ["Sofia"])]
RU_SURNAMES = [("Иванов", "Ivanov"), ("Смирнов", "Smirnov"), ("Кузнецов", "Kuznetsov"), ("Попов", "Popov"),
               ("Васильев", "Vasilyev"), ("Петров", "Petrov"), ("Соколов", "Sokolov"), ("Михайлов", "Mikhaylov"),
               ("Новиков", "Novikov"), ("Фёдоров", "Fyodorov"), ("Морозов", "Morozov"), ("Волков", "Volkov"),
               ("Алексеев", "Alekseyev"), ("Лебедев", "Lebedev"), ("Семёнов", "Semyonov"), ("Егоров", "Yegorov"),
               ("Павлов", "Pavlov"), ("Козлов", "Kozlov"), ("Степанов", "Stepanov"), ("Николаев", "Nikolayev"),
               ("Орлов", "Orlov"), ("Андреев", "Andreyev"), ("Макаров", "Makarov"), ("Никитин", "Nikitin"),
               ("Захаров", "Zakharov"), ("Зайцев", "Zaytsev"), ("Соловьёв", "Solovyov"), ("Борисов", "Borisov"),
               ("Яковлев", "Yakovlev"), ("Григорьев", "Grigoryev"), ("Романов", "Romanov"), ("Воробьёв", "Vorobyov"),
               ("Сергеев", "Sergeyev"), ("Кузьмин", "Kuzmin"), ("Фролов", "Frolov"), ("Александров", "Aleksandrov"),
               ("Дмитриев", "Dmitriyev"), ("Королёв", "Korolyov"), ("Гусев", "Gusev"), ("Киселёв", "Kiselyov"),
               ("Ильин", "Ilyin"), ("Максимов", "Maksimov"), ("Поляков", "Polyakov"), ("Сорокин", "Sorokin"),
               ("Виноградов", "Vinogradov"), ("Ковалёв", "Kovalyov"), ("Белов", "Belov"), ("Медведев", "Medvedev"),
               ("Антонов", "Antonov"), ("Тарасов", "Tarasov"), ("Жуков", "Zhukov"), ("Баранов", "Baranov"),
               ("Филиппов", "Filippov"), ("Комаров", "Komarov"), ("Давыдов", "Davydov"), ("Беляев", "Belyayev"),
               ("Герасимов", "Gerasimov"), ("Богданов", "Bogdanov"), ("Осипов", "Osipov"), ("Сидоров", "Sidorov")]
EN_MALE = [("Robert", ["Rob", "Bob", "Bobby"]), ("William", ["Will", "Bill"]), ("James", ["Jim", "Jimmy"]),
           ("John", ["Johnny", "Jack"]), ("Michael", ["Mike"]), ("David", ["Dave"]), ("Richard", ["Rick", "Dick"]),
           ("Thomas", ["Tom"]), ("Christopher", ["Chris"]), ("Daniel", ["Dan", "Danny"]), ("Matthew", ["Matt"]),
           ("Anthony", ["Tony"]), ("Andrew", ["Andy"]), ("Joseph", ["Joe"]), ("Edward", ["Ed", "Ted"]),
           ("George", []), ("Oliver", ["Ollie"]), ("Henry", ["Harry"]), ("Samuel", ["Sam"]), ("Benjamin", ["Ben"])]
EN_FEMALE = [("Elizabeth", ["Liz", "Beth"]), ("Katherine", ["Kate", "Katie"]), ("Margaret", ["Maggie", "Peggy"]),
             ("Jennifer", ["Jen", "Jenny"]), ("Susan", ["Sue"]), ("Patricia", ["Pat", "Trish"]),
             ("Rebecca", ["Becky"]), ("Jessica", ["Jess"]), ("Sarah", []), ("Emily", []), ("Charlotte", []),
             ("Olivia", []), ("Sophie", []), ("Victoria", ["Vicky"]), ("Abigail", ["Abby"]), ("Hannah", [])]
EN_SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
               "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
               "Harris", "Lewis", "Martin", "Cooper", "Hill", "Ward", "Hughes", "Moore", "Clark", "King", "Baker",
               "Harrison", "Morgan", "Allen", "Young", "Scott", "Mitchell", "Turner", "Phillips", "Campbell"]
RU_CITIES = [("Москва", "Moscow"), ("Санкт-Петербург", "Saint Petersburg"), ("Новосибирск", "Novosibirsk"),
             ("Екатеринбург", "Yekaterinburg"), ("Казань", "Kazan"), ("Нижний Новгород", "Nizhny Novgorod"),
             ("Челябинск", "Chelyabinsk"), ("Самара", "Samara"), ("Омск", "Omsk"), ("Ростов-на-Дону", "Rostov-on-Don"),
             ("Уфа", "Ufa"), ("Красноярск", "Krasnoyarsk"), ("Пермь", "Perm"), ("Воронеж", "Voronezh")]
EN_CITIES = ["London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Liverpool", "Bristol", "Sheffield",
             "Edinburgh", "Leicester", "New York", "Boston", "Chicago"]
RU_DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru", "inbox.ru", "rambler.ru"]
EN_DOMAINS = ["gmail.com", "yahoo.co.uk", "hotmail.com", "outlook.com", "btinternet.com", "icloud.com"]
DOMAIN_TYPOS = {"gmail.com": "gmial.com", "mail.ru": "mial.ru", "yandex.ru": "yandex.com", "hotmail.com": "hotmial.com"}
ROLE_ADDRESSES = ["info@romashka.ru", "office@vector-group.ru", "sales@alfa-trade.ru", "hello@brightmedia.co.uk"]
SOURCES = ["meta_leads", "calltouch", "mailchimp", "amocrm"]


def translit(text, rng):
    """A second romanisation of a Cyrillic name, as people type it (not the BGN one the generator lists)."""
    table = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
             "й": rng.choice(["y", "i", "j"]), "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
             "с": "s", "т": "t", "у": "u", "ф": "f", "х": rng.choice(["kh", "h"]), "ц": "ts", "ч": "ch", "ш": "sh",
             "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": rng.choice(["yu", "ju", "iu"]),
             "я": rng.choice(["ya", "ja", "ia"])}
    out = "".join(table.get(c.lower(), c) for c in text)
    return out[:1].upper() + out[1:]


def typo(text, rng):
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.random()
    if kind < 0.4:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]  # adjacent swap
    if kind < 0.7:
        return text[:i] + text[i + 1:]  # dropped letter
    return text[:i] + text[i] + text[i:]  # doubled letter


def ru_mobile(rng):
    return "9" + "".join(str(rng.randrange(10)) for _ in range(9))


def uk_phone(rng):
    return "20" + rng.choice("378") + "".join(str(rng.randrange(10)) for _ in range(7))


def format_phone(country, national, rng):
    if country == "7":
        n = national
        return rng.choice([f"+7 {n[:3]} {n[3:6]}-{n[6:8]}-{n[8:]}", f"8{n}", f"8 ({n[:3]}) {n[3:6]} {n[6:8]} {n[8:]}",
                           f"+7{n}", f"8-{n[:3]}-{n[3:6]}-{n[6:8]}-{n[8:]}", n])
    n = national
    return rng.choice([f"+44 {n[:2]} {n[2:6]} {n[6:]}", f"+44{n}", f"+44 ({n[:2]}) {n[2:6]} {n[6:]}"])


USED_EMAILS = set()


def make_person(pid, rng):
    russian = rng.random() < 0.6
    female = rng.random() < 0.5
    person = {"id": pid, "russian": russian}
    if russian:
        first = rng.choice(RU_FEMALE if female else RU_MALE)
        cy_last, lat_last = rng.choice(RU_SURNAMES)
        if female:
            cy_last, lat_last = cy_last + "а", lat_last + "a"
        person.update(first_cy=first[0], first_lat=first[1], first_alt=first[2], last_cy=cy_last, last_lat=lat_last)
        person["city"] = rng.choice(RU_CITIES)
        person["country"], person["phone"] = "7", ru_mobile(rng)
        domain = rng.choice(RU_DOMAINS)
    else:
        first = rng.choice(EN_FEMALE if female else EN_MALE)
        last = rng.choice(EN_SURNAMES)
        person.update(first_cy=None, first_lat=first[0], first_alt=first[1], last_cy=None, last_lat=last)
        city = rng.choice(EN_CITIES)
        person["city"] = (city, city)
        person["country"], person["phone"] = "44", uk_phone(rng)
        domain = rng.choice(EN_DOMAINS)
    year = rng.randrange(1950, 2005)
    person["birth"] = (year, rng.randrange(1, 13), rng.randrange(1, 29))
    local = rng.choice([f"{person['first_lat'][0]}.{person['last_lat']}", f"{person['first_lat']}.{person['last_lat']}",
                        f"{person['first_lat']}{year % 100}", f"{person['last_lat']}{rng.randrange(1, 999)}",
                        f"{person['first_lat']}_{person['last_lat'][:3]}{rng.randrange(10, 99)}"])
    # A mailbox belongs to one person: providers refuse a taken name, so people add digits until it is free.
    email = f"{local.lower()}@{domain}"
    while email in USED_EMAILS:
        email = f"{local.lower()}{rng.randrange(1, 10000)}@{domain}"
    USED_EMAILS.add(email)
    person["email"] = email
    return person


def written_first(person, rng):
    r = rng.random()
    if person["russian"]:
        if r < 0.35:
            return person["first_cy"]
        if r < 0.55:
            return translit(person["first_cy"], rng)
        if r < 0.7 and person["first_alt"]:
            return rng.choice(person["first_alt"])
        return person["first_lat"]
    if r < 0.2 and person["first_alt"]:
        return rng.choice(person["first_alt"])
    return person["first_lat"]


def written_last(person, rng):
    if person["russian"]:
        r = rng.random()
        if r < 0.4:
            return person["last_cy"]
        if r < 0.6:
            return translit(person["last_cy"], rng)
        return person["last_lat"]
    return person["last_lat"]


def written_email(person, rng):
    email = person["email"]
    r = rng.random()
    if r < 0.08:
        local, domain = email.split("@")
        email = typo(local, rng) + "@" + domain
    elif r < 0.11:
        local, domain = email.split("@")
        email = local + "@" + DOMAIN_TYPOS.get(domain, domain)
    if rng.random() < 0.3:
        email = "".join(c.upper() if rng.random() < 0.3 else c for c in email)
    if rng.random() < 0.1:
        email = rng.choice([" ", "", "\t"]) + email + rng.choice([" ", "  "])
    return email


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    people = [make_person(i, rng) for i in range(args.people)]
    # Households: a second person who shares the first one's surname, city and home phone.
    for person in people:
        if rng.random() < 0.06:
            other = rng.choice(people)
            if other is not person and other["russian"] == person["russian"]:
                person["phone"], person["city"], person["country"] = other["phone"], other["city"], other["country"]
                person["last_cy"], person["last_lat"] = other["last_cy"], other["last_lat"]
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["record_id", "source", "source_id", "updated_at", "first_name", "last_name", "email", "phone",
                  "birth_date", "city", "crm_id", "person_id"])
    record = 0
    for person in people:
        count = rng.choices([1, 2, 3, 4, 5, 6], weights=[30, 28, 18, 12, 7, 5])[0]
        for k in range(count):
            record += 1
            source = rng.choice(SOURCES)
            first = written_first(person, rng)
            last = written_last(person, rng)
            if rng.random() < 0.06:
                first = typo(first, rng)
            if rng.random() < 0.06:
                last = typo(last, rng)
            email = written_email(person, rng)
            if rng.random() < 0.02:
                email = rng.choice(ROLE_ADDRESSES)
            phone = format_phone(person["country"], person["phone"], rng)
            y, m, d = person["birth"]
            birth = rng.choice([f"{y:04d}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y:04d}"])
            city = person["city"][0] if rng.random() < 0.5 else person["city"][1]
            crm_id = ""
            # What each channel knows.
            if source == "meta_leads":
                birth = ""
                if rng.random() < 0.3:
                    phone = ""
            elif source == "calltouch":
                email, birth = "", ""
                if rng.random() < 0.5:
                    last = ""
                if rng.random() < 0.3:
                    first = ""
            elif source == "mailchimp":
                phone = "" if rng.random() < 0.7 else phone
                birth = "" if rng.random() < 0.6 else birth
                city = "" if rng.random() < 0.5 else city
            else:  # amocrm: one CRM contact per person
                crm_id = f"AMO-{100000 + person['id']}"
            if rng.random() < 0.05:
                city = ""
            updated = f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:00:00Z"
            out.writerow([f"r{record}", source, f"{source[:2]}-{record}", updated, first, last, email, phone, birth,
                          city, crm_id, f"p{person['id']}"])


if __name__ == "__main__":
    main()
