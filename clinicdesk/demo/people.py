"""Reproducible people for the demo clinic: the mix of backgrounds a city practice sees, a few
written in Greek or Cyrillic script, with plausible phones, addresses, national ids (NHS-style
numbers with their check digit) and emergency contacts."""

from __future__ import annotations

import random
from datetime import date, timedelta

from clinicdesk.services.patients import PatientInput

_ORIGINS = [
    (
        30,
        "Olivia Amelia Isla Ava Emily Sophie Grace Lily Freya Charlotte Ruby Poppy Evie Ella "
        "Hannah Lucy Chloe Jessica Sarah Rebecca Margaret Joan Patricia",
        "Oliver George Harry Jack Noah Charlie Thomas Oscar William James Henry Leo Alfie Joshua "
        "Daniel Samuel David Michael Peter John Robert",
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
        "Walker White Roberts Green Hall Wood Jackson Clarke Hughes Edwards Turner Hill Moore",
    ),
    (
        6,
        "Aoife Siobhán Niamh Róisín Caoimhe Saoirse",
        "Seán Cian Oisín Pádraig Darragh Eoin",
        "Murphy O'Brien Kelly Byrne Ryan O'Sullivan Walsh McCarthy Doyle Ó Briain",
    ),
    (
        8,
        "Zofia Agnieszka Małgorzata Katarzyna Joanna Anna",
        "Łukasz Wojciech Paweł Krzysztof Tomasz Jakub",
        "Nowak Kowalski Wiśniewska Wójcik Kamiński Lewandowska Zieliński Szymańska",
    ),
    (
        6,
        "Adaeze Ngozi Chiamaka Funmilayo Oluwaseun Amara",
        "Chinedu Emeka Oluwadamilare Tunde Ifeanyi Babajide",
        "Okafor Adeyemi Okonkwo Balogun Eze Nwosu Adebayo Obi",
    ),
    (
        8,
        "Priya Ananya Aisha Fatima Zainab Meera Sunita Kavya",
        "Arjun Rohan Imran Mohammed Vikram Sanjay Hamza Aarav",
        "Patel Sharma Khan Singh Ahmed Hussain Begum Gupta Chaudhry",
    ),
    (
        5,
        "María Lucía Carmen Inês Beatriz Sofía",
        "José Javier Álvaro João Tiago Andrés",
        "García Fernández López Martínez Rodrigues Gonçalves Sánchez Pereira",
    ),
    (
        4,
        "Ayşe Elif Zeynep Emine",
        "Mehmet Mustafa Emre Oğuz",
        "Yılmaz Kaya Demir Şahin Çelik Öztürk",
    ),
    (
        4,
        "Sophie Camille Léa Chloé Anna Lena",
        "Lucas Théo Hugo Jonas Lukas Felix",
        "Dubois Lefèvre Moreau Müller Schröder Fischer Weiß Bauer",
    ),
    (
        3,
        "Ελένη Μαρία Κατερίνα Σοφία",
        "Γιώργος Νίκος Δημήτρης Κώστας",
        "Παπαδοπούλου Παπαδόπουλος Νικολάου Γεωργίου Οικονόμου",
    ),
    (
        3,
        "Ольга Наталья Анна Ирина Олена",
        "Дмитрий Сергей Андрей Олександр Иван",
        "Иванова Смирнов Петренко Коваленко Соколова Шевченко",
    ),
    (3, "Mei Xiu Ying Li Na", "Wei Jun Hao Ming Lei", "Wang Li Zhang Chen Liu Huang Zhao"),
    (3, "Hodan Amina Ifrah Sahra", "Abdi Yusuf Hassan Liban", "Mohamed Ali Farah Warsame Osman"),
    (2, "Ioana Andreea Elena", "Andrei Mihai Alexandru", "Popescu Ionescu Dumitru Stan Constantin"),
]
_STREETS = (
    "High Street",
    "Station Road",
    "Church Lane",
    "Victoria Road",
    "Park Avenue",
    "Mill Lane",
    "Kings Road",
    "Queens Walk",
    "Albert Street",
    "Riverside Close",
    "Greenwich High Road",
    "Tower Bridge Road",
    "Bermondsey Street",
    "Old Kent Road",
    "Jamaica Road",
    "Borough High Street",
    "Long Lane",
    "Tooley Street",
)
_AREAS = (
    ("London", "SE1"),
    ("London", "SE16"),
    ("London", "SE17"),
    ("London", "SE15"),
    ("London", "SE5"),
    ("London", "SE11"),
    ("London", "SE8"),
    ("London", "SW9"),
)
_MAIL = ("example.com", "example.org", "example.net", "mail.example", "post.example")


class PeopleGenerator:
    """Reproducible people: the same seed gives the same patients on every machine."""

    def __init__(self, seed: int, today: date | None = None) -> None:
        self.rng = random.Random(seed)
        self.today = today or date(2026, 11, 1)
        self._origins = [(w, f.split(), m.split(), s.split()) for w, f, m, s in _ORIGINS]
        self._weights = [o[0] for o in self._origins]

    def _name(self, sex: str) -> tuple[str, str]:
        _, female, male, family = self.rng.choices(self._origins, self._weights)[0]
        pool = female if sex == "female" else male if sex == "male" else female + male
        return self.rng.choice(pool), self.rng.choice(family)

    def phone(self) -> str:
        n = self.rng.randrange(10**9)
        return f"+44 7{n // 10**6:03d} {n % 10**6:06d}"

    def nhs_number(self) -> str:
        while True:
            body = [self.rng.randrange(10) for _ in range(9)]
            check = 11 - sum(d * (10 - i) for i, d in enumerate(body)) % 11
            if check == 10:
                continue
            digits = "".join(map(str, body)) + str(0 if check == 11 else check)
            return f"{digits[:3]} {digits[3:6]} {digits[6:]}"

    def birth_date(self) -> date:
        age_days = int(self.rng.triangular(0, 95 * 365.25, 38 * 365.25))
        return self.today - timedelta(days=age_days)

    def patient(self) -> PatientInput:
        rng = self.rng
        sex = rng.choices(("female", "male", "other", "unknown"), (51, 48, 0.5, 0.5))[0]
        given, family = self._name(sex)
        contact_given, _ = self._name(rng.choice(("female", "male")))
        town, district = rng.choice(_AREAS)
        address = (
            f"{rng.randint(1, 240)} {rng.choice(_STREETS)}, {town} "
            f"{district} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        )
        ascii_name = given.isascii() and family.isascii()
        has_contact = rng.random() < 0.7
        email = (
            f"{given}.{family}{rng.randint(1, 99)}@{rng.choice(_MAIL)}".lower()
            .replace("'", "")
            .replace(" ", "")
            if ascii_name and rng.random() < 0.6
            else ""
        )
        return PatientInput(
            given_name=given,
            family_name=family,
            date_of_birth=self.birth_date(),
            sex=sex,
            phone=self.phone() if rng.random() < 0.95 else "",
            email=email,
            address=address,
            national_id=self.nhs_number() if rng.random() < 0.85 else "",
            emergency_contact_name=f"{contact_given} {family}" if has_contact else "",
            emergency_contact_phone=self.phone() if has_contact else "",
        )

    def patients(self, count: int) -> list[PatientInput]:
        return [self.patient() for _ in range(count)]
