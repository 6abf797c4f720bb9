"""Default parameter values, one cited line each.

Ages are grouped in nine ten-year bands: 0-9, 10-19, ..., 70-79 and 80+. Durations are in
days. The full table with the reasoning behind each derived value is in ``docs/model.md``.
"""

from __future__ import annotations

AGE_BANDS: tuple[str, ...] = (
    "0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+",
)  # fmt: skip

# --- population -----------------------------------------------------------------------------
# Age structure of China, 7th national population census 2020 (National Bureau of Statistics,
# 2021), shares by ten-year band, rounded.
AGE_DISTRIBUTION: tuple[float, ...] = (
    0.119,
    0.108,
    0.124,
    0.156,
    0.145,
    0.154,
    0.104,
    0.059,
    0.026,
)

# Household sizes 1, 2, 3, 4, 5, 6+ (6+ counted as 6) of family households, China 2020 census
# (NBS 2021; mean household size 2.62), rounded.
HOUSEHOLD_SIZE: tuple[float, ...] = (0.254, 0.297, 0.209, 0.132, 0.065, 0.043)

# --- natural history ------------------------------------------------------------------------
# Incubation mean 5.2 d (Li Q et al., NEJM 2020). Infectiousness starts ~2.3 d before symptom
# onset (He X et al., Nat Med 2020: infectiousness profile offset -2.31 d), so the latent
# period is 5.2 - 2.3 = 2.9 d; spreads chosen so the incubation SD is ~3.3 d, between Lauer et
# al. (Ann Intern Med 2020, lognormal SD ~2.4 d) and Li et al. (95th percentile 12.5 d, SD ~3.9 d).
LATENT_PERIOD = {"dist": "gamma", "mean": 2.9, "sd": 2.9}
PRESYMPTOMATIC_PERIOD = {"dist": "gamma", "mean": 2.3, "sd": 1.5}
# Infectious period of asymptomatic and of symptomatic non-fatal cases: 8.0 +/- 2.0 d, the
# Covasim defaults (Kerr CC et al., PLoS Comput Biol 2021; from the viral-shedding data of
# Wolfel R et al., Nature 2020).
ASYMPTOMATIC_PERIOD = {"dist": "gamma", "mean": 8.0, "sd": 2.0}
SYMPTOMATIC_PERIOD = {"dist": "gamma", "mean": 8.0, "sd": 2.0}
# Onset to death: mean 17.8 d, coefficient of variation 0.45 (Verity R et al., Lancet Infect
# Dis 2020), so SD 8.0 d.
ONSET_TO_DEATH = {"dist": "gamma", "mean": 17.8, "sd": 8.0}

# Share of infections that never develop symptoms: overall ~20 % (Buitrago-Garcia D et al.,
# PLoS Med 2020: 20 %, 95 % CI 17-25 %), falling with age as the clinical fraction rises with age
# (Davies NG et al., Nat Med 2020); the age pattern is Davies' rescaled to the 20 % overall share.
ASYMPTOMATIC_FRACTION: tuple[float, ...] = (0.40, 0.35, 0.25, 0.20, 0.18, 0.15, 0.12, 0.10, 0.10)

# P(hospitalised | infected) by age, Verity R et al., Lancet Infect Dis 2020 (percent / 100).
SEVERE_FRACTION: tuple[float, ...] = (
    0.0, 0.000408, 0.0104, 0.0343, 0.0425, 0.0816, 0.118, 0.166, 0.184,
)  # fmt: skip

# Infection fatality ratio by age, Verity R et al., Lancet Infect Dis 2020 (percent / 100).
INFECTION_FATALITY: tuple[float, ...] = (
    0.0000161, 0.0000695, 0.000309, 0.000844, 0.00161, 0.00595, 0.0193, 0.0428, 0.078,
)  # fmt: skip

# Relative infectiousness. Presymptomatic as symptomatic: infectiousness peaks at or just before
# onset (He X et al., Nat Med 2020). Asymptomatic 0.35: ratio of secondary attack rates from
# asymptomatic vs symptomatic index cases (Buitrago-Garcia D et al., PLoS Med 2020).
RELATIVE_INFECTIOUSNESS = {"presymptomatic": 1.0, "asymptomatic": 0.35, "symptomatic": 1.0}

# Travel speed on the roads (discrete-event engine): 40 km/h, the lower design speed of urban
# arterial roads (主干路, 40-60 km/h) in China's Code for Design of Urban Road Engineering
# (CJJ 37-2012); county and village roads are no faster.
ROAD_SPEED_KMH = 40.0

# Hours of the day between which day trips set out (discrete-event engine): 06:00-18:00.
# A modelling assumption (daytime travel, uniform within the window): no survey of trip
# start times in Xianning is available; set ``mobility.trip_hours`` to change it.
TRIP_HOURS = (6.0, 18.0)
