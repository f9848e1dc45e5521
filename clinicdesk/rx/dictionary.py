"""The preset deflate dictionary of format RX1: words prescriptions repeat.

Deflate refers back into this text instead of spelling the words out, which shrinks a typical
three-item code by about a third (a version 12 QR instead of 17). Encoder and decoder must hold
the same bytes, so this text is frozen for RX1: a change needs a new prefix (a test pins it).
Most frequent words come last, where references to them are shortest.
"""

from __future__ import annotations

RX1_DICTIONARY = (
    b" Medical Centre Health Centre Surgery Hospital Practice Family Clinic Dr  GMC MCI Reg No"
    b" Acetylsalicylic acid Aspirin Co-codamol Codeine Tramadol Naproxen Diclofenac"
    b" Phenoxymethylpenicillin Flucloxacillin Co-amoxiclav Cefalexin Clarithromycin Azithromycin"
    b" Erythromycin Doxycycline Ciprofloxacin Nitrofurantoin Trimethoprim Metronidazole"
    b" Co-trimoxazole Fluconazole Aciclovir Metformin Gliclazide Sitagliptin Insulin glargine"
    b" Amlodipine Ramipril Lisinopril Losartan Bisoprolol Atenolol Indapamide Bendroflumethiazide"
    b" Furosemide Atorvastatin Simvastatin Clopidogrel Apixaban Warfarin Levothyroxine Omeprazole"
    b" Lansoprazole Ranitidine Metoclopramide Ondansetron Loperamide Lactulose Cetirizine"
    b" Loratadine Chlorphenamine Beclometasone Montelukast Prednisolone Hydrocortisone Sertraline"
    b" Fluoxetine Citalopram Amitriptyline Mirtazapine Diazepam Zopiclone Gabapentin Pregabalin"
    b" Sumatriptan Tamsulosin Folic acid Ferrous sulfate Colecalciferol Oral rehydration salts"
    b" Chloramphenicol eye drops ear drops nasal spray patch suppository pessary injection pen"
    b" oral solution oral suspension modified-release gastro-resistant cream ointment gel sachet"
    b" sachets drops vial ampoule units/ml units micrograms per dose %"
    b" Do not drive if it makes you drowsy. Avoid alcohol. Do not take with other medicines"
    b" containing paracetamol. Dissolve in water. Swallow whole, do not chew. Take on an empty"
    b" stomach. Take at night. Take in the morning. Take 30 minutes before breakfast."
    b" Rinse your mouth after use. Shake well before use. Stop if a rash appears."
    b" Finish the whole course even if you feel better. Take with or after food."
    b" Salbutamol Paracetamol Ibuprofen Amoxicillin inhaler inhaled puffs puff bottle bottles"
    b" into the skin on the skin in the eye in the ear subcutaneous injection by mouth"
    b" 1 capsule 2 capsules capsule capsules 1 tablet 2 tablets tablet tablets mg/5 ml ml mg "
)
